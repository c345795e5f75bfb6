// Which application names a rule may use. By default the DPI protocol registry decides (names and
// aliases, case-insensitive, normalised to the protocol's own name in lower case); callers and
// tests can pass their own list so the answer does not depend on which protocols are registered.

import { applicationNames, findProtocol } from '../../dpi/registry.js';

export interface ApplicationCatalog {
  /** The lower-cased canonical name, or undefined when the name is not known. */
  resolve(name: string): string | undefined;
  /** Every name users may write, for did-you-mean hints. */
  names: readonly string[];
}

export function applicationCatalog(known?: readonly string[]): ApplicationCatalog {
  if (known === undefined) {
    return { resolve: (name) => findProtocol(name)?.name.toLowerCase(), names: applicationNames() };
  }
  const lower = new Set(known.map((n) => n.toLowerCase()));
  return { resolve: (name) => (lower.has(name.toLowerCase()) ? name.toLowerCase() : undefined), names: known };
}
