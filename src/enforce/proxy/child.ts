// The L7 proxy as a child of the agent, inside the node's network namespace (see host.ts). It
// lives exactly as long as the IPC channel to its agent.

import { checkOriginalDestination } from './original-dst.js';
import { policyOf, sayRevoked, type FromChild, type ToChild } from './host.js';
import { L7Proxy } from './proxy.js';

const send = (m: FromChild): void => {
  if (process.connected) process.send?.(m);
};

let proxy: L7Proxy | undefined;

/**
 * Decisions reported to the agent per second. Allowed ones are not sent at all (the agent reports
 * violations only); beyond the budget a flood of blocked attempts is counted, not queued on the
 * IPC channel, and the agent aggregates what it gets anyway.
 */
const REPORTS_PER_SECOND = 500;
let budget = REPORTS_PER_SECOND;
let unreported = 0;
setInterval(() => {
  if (unreported > 0) send({ type: 'say', line: `L7 proxy: ${unreported} violations in the last second not reported (over ${REPORTS_PER_SECOND} a second); their connections were handled all the same` });
  budget = REPORTS_PER_SECOND;
  unreported = 0;
}, 1000).unref();

process.on('disconnect', () => {
  // The agent is gone: so is its proxy. Connections in flight end with it.
  process.exit(0);
});

process.on('message', (m: ToChild) => {
  void (async () => {
    try {
      if (m.type === 'start') {
        checkOriginalDestination();
        proxy = new L7Proxy({
          policy: policyOf(m.input),
          onDecision: (decision) => {
            if (decision.action === 'allow') return;
            if (budget > 0) {
              budget--;
              send({ type: 'decision', decision });
            } else unreported++;
          },
          say: (line) => send({ type: 'say', line }),
        });
        const port = await proxy.listen(m.port);
        await proxy.setUdpDestinations(m.input.udp);
        send({ type: 'ready', port });
      } else if (m.type === 'update') {
        proxy?.setPolicy(policyOf(m.input));
        await proxy?.setUdpDestinations(m.input.udp);
        if (m.revisit === true && proxy !== undefined) sayRevoked(proxy.revisit(), (line) => send({ type: 'say', line }));
        send({ type: 'done', id: m.id });
      } else if (m.type === 'stats') {
        send(proxy === undefined ? { type: 'done', id: m.id } : { type: 'done', id: m.id, stats: { ...proxy.stats(), udp: proxy.udpStats() } });
      } else if (m.type === 'stop') {
        await proxy?.close();
        process.exit(0);
      }
    } catch (err) {
      send({ type: 'failed', message: (err as Error).message });
      if (m.type === 'start') process.exit(1);
    }
  })();
});
