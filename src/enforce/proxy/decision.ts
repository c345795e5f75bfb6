// What the TCP and UDP sides of the L7 proxy (and the passive tap) share: the connection the
// decision engine is asked about, and a decision as reported, built the same way by each.

import type { Identification } from '../../dpi/engine.js';
import type { Connection } from '../../model/connection.js';
import type { Verdict } from '../../model/verdict.js';
import type { ProxyAction, ProxyDecision, ProxyEndpoint, ProxyPolicy } from './proxy.js';

/** The connection as decide() sees it; `app` only once DPI named it, `pending` while it may still. */
export function connectionOf(ipProto: Connection['ipProto'], client: ProxyEndpoint, server: ProxyEndpoint, at: number, app: string | undefined, pending: boolean): Connection {
  const conn: Connection = { ipProto, client: { ip: client.ip, port: client.port }, server: { ip: server.ip, port: server.port }, at };
  if (app !== undefined) conn.app = app;
  if (pending) conn.appPending = true;
  return conn;
}

/** The application to decide with: the registry name, lower-case, when DPI identified it. */
export function identifiedApp(r: Identification): string | undefined {
  return r.confidence === 'dpi' ? r.app.toLowerCase() : undefined;
}

/**
 * What a decided session is known to speak, as connectionOf's last two arguments: the application
 * DPI named, else still pending unless identification ended without one.
 */
export function appOf(r: Identification): [app: string | undefined, pending: boolean] {
  const app = identifiedApp(r);
  return [app, app === undefined && !r.done];
}

/** Whether the policy blocks the connection outright (a pending verdict is not a refusal yet). */
export function refusedNow(policy: ProxyPolicy, conn: Connection): boolean {
  const verdict = policy.decide(conn);
  return verdict.pending !== true && actionOf(verdict) === 'block';
}

export function actionOf(verdict: Verdict): ProxyAction {
  return !verdict.allowed ? 'block' : verdict.violation ? 'alert' : 'allow';
}

export interface DecisionParts {
  ipProto: ProxyDecision['ipProto'];
  at: number;
  now: number;
  client: ProxyEndpoint;
  server: ProxyEndpoint;
  identification: Identification;
  verdict: Verdict;
  trigger: ProxyDecision['trigger'];
  /** What each direction sent before the decision; cut to `evidenceBytes` and copied. */
  c2s: readonly Buffer[];
  s2c: readonly Buffer[];
  evidenceBytes: number;
}

export function decisionOf(p: DecisionParts): ProxyDecision {
  const app = identifiedApp(p.identification);
  const evidence = (chunks: readonly Buffer[]): Buffer => Buffer.from(Buffer.concat(chunks).subarray(0, p.evidenceBytes));
  return {
    ipProto: p.ipProto,
    at: p.at,
    decidedAfterMs: p.now - p.at,
    client: { ...p.client },
    server: { ...p.server },
    app: app ?? 'unknown',
    appConfidence: app !== undefined ? 'dpi' : p.identification.confidence,
    meta: p.identification.meta,
    verdict: p.verdict,
    action: actionOf(p.verdict),
    trigger: p.trigger,
    evidence: { c2s: evidence(p.c2s), s2c: evidence(p.s2c) },
  };
}
