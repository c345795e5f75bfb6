// `npm run eval:dpi -- ../shared/corpus/dpi`: prints the agreement of identification with the
// reference corpus per protocol and overall; exits 1 below the goal (95%, no claim on a
// payload-less flow).

import { resolve } from 'node:path';
import { evaluate } from './dpi-agreement.js';

const a = await evaluate(resolve(process.argv[2] ?? '../shared/corpus/dpi'));
console.log('protocol          flows  agree   rate  disagreements');
for (const s of a.perProtocol) {
  const why = [...s.disagreements].map(([k, v]) => `${k}×${v}`).join(', ');
  console.log(`${s.protocol.padEnd(16)} ${String(s.flows).padStart(6)} ${String(s.agree).padStart(6)} ${((100 * s.agree) / s.flows).toFixed(1).padStart(5)}%  ${why}`);
}
console.log(`overall (supported protocols): ${a.agree}/${a.flows} = ${a.rate.toFixed(1)}%  (flows not found: ${a.missing})`);
console.log(`not supported, not scored: ${[...a.unsupported].map(([k, v]) => `${k}×${v}`).join(', ') || 'none'}`);
console.log(`synscan.pcap: ${a.scanClaimed} of ${a.scanPayloadless} payload-less flows claimed as a protocol`);
process.exitCode = a.rate >= 95 && a.scanClaimed === 0 ? 0 : 1;
