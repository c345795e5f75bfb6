// Events as the agent and the inspectors make them, for the events tests.

import { makeEvent, type Event, type EventFields } from '../../src/events/event.js';

export function violation(over: Partial<EventFields> = {}): Event {
  return makeEvent({
    kind: 'violation',
    firstSeen: '2025-03-01T10:00:00.000Z',
    client: { ip: '10.200.1.5', port: 43512, workload: 'shop/frontend-7d9', name: 'frontend-7d9', service: 'frontend', namespace: 'shop' },
    server: { ip: '10.200.2.9', port: 5432, workload: 'shop/postgres-0', name: 'postgres-0', service: 'postgres', namespace: 'shop' },
    ipProto: 'tcp',
    app: 'unknown',
    appConfidence: 'none',
    ruleId: 'default',
    mode: 'protect',
    action: 'drop',
    reason: 'no rule allows frontend → postgres; protect blocks by default',
    ...over,
  });
}
