// The L7 proxy as a child of the agent, inside the node's network namespace (see host.ts). It
// lives exactly as long as the IPC channel to its agent.

import { checkOriginalDestination } from './original-dst.js';
import { policyOf, type FromChild, type ToChild } from './host.js';
import { L7Proxy } from './proxy.js';

const send = (m: FromChild): void => {
  if (process.connected) process.send?.(m);
};

let proxy: L7Proxy | undefined;

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
          onDecision: (decision) => send({ type: 'decision', decision }),
          say: (line) => send({ type: 'say', line }),
        });
        send({ type: 'ready', port: await proxy.listen(m.port) });
      } else if (m.type === 'update') {
        proxy?.setPolicy(policyOf(m.input));
        send({ type: 'done', id: m.id });
      } else if (m.type === 'stats') {
        send(proxy === undefined ? { type: 'done', id: m.id } : { type: 'done', id: m.id, stats: proxy.stats() });
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
