// Exit codes shared by every command: 0 ok, 1 check failed, 2 bad input or usage.

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error the user caused and can fix: printed as one line, never with a stack trace. */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = 'UsageError';
  }
}
