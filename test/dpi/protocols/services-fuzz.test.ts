// Probes and extractors face adversarial bytes: random input and mutated valid messages must
// never make them throw, and a probe only ever answers one of its three results.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FlowMeta } from '../../../src/model/flow.js';
import type { Direction, ProbeContext, ProtocolModule, Transport } from '../../../src/dpi/types.js';
import { ajp } from '../../../src/dpi/protocols/ajp.js';
import { amqp } from '../../../src/dpi/protocols/amqp.js';
import { bgp } from '../../../src/dpi/protocols/bgp.js';
import { cassandra } from '../../../src/dpi/protocols/cassandra.js';
import { couchbase } from '../../../src/dpi/protocols/couchbase.js';
import { drda } from '../../../src/dpi/protocols/drda.js';
import { elasticsearch } from '../../../src/dpi/protocols/elasticsearch.js';
import { elasticsearchTransport } from '../../../src/dpi/protocols/elasticsearch-transport.js';
import { fastcgi } from '../../../src/dpi/protocols/fastcgi.js';
import { git } from '../../../src/dpi/protocols/git.js';
import { irc } from '../../../src/dpi/protocols/irc.js';
import { kafka } from '../../../src/dpi/protocols/kafka.js';
import { memcached } from '../../../src/dpi/protocols/memcached.js';
import { mongodb } from '../../../src/dpi/protocols/mongodb.js';
import { mqtt } from '../../../src/dpi/protocols/mqtt.js';
import { mysql } from '../../../src/dpi/protocols/mysql.js';
import { nats } from '../../../src/dpi/protocols/nats.js';
import { netbiosNs } from '../../../src/dpi/protocols/netbios-ns.js';
import { openwire } from '../../../src/dpi/protocols/openwire.js';
import { oracleTns } from '../../../src/dpi/protocols/oracle-tns.js';
import { postgresql } from '../../../src/dpi/protocols/postgresql.js';
import { radius } from '../../../src/dpi/protocols/radius.js';
import { redis } from '../../../src/dpi/protocols/redis.js';
import { rsync } from '../../../src/dpi/protocols/rsync.js';
import { rtmp } from '../../../src/dpi/protocols/rtmp.js';
import { rtsp } from '../../../src/dpi/protocols/rtsp.js';
import { sip } from '../../../src/dpi/protocols/sip.js';
import { spark } from '../../../src/dpi/protocols/spark.js';
import { sparkConnect } from '../../../src/dpi/protocols/spark-connect.js';
import { ssdp } from '../../../src/dpi/protocols/ssdp.js';
import { stomp } from '../../../src/dpi/protocols/stomp.js';
import { tds } from '../../../src/dpi/protocols/tds.js';
import { thrift } from '../../../src/dpi/protocols/thrift.js';
import { whois } from '../../../src/dpi/protocols/whois.js';
import { zookeeper } from '../../../src/dpi/protocols/zookeeper.js';

/** Valid messages ("<direction>:<hex>") taken from each protocol's own tests, as mutation seeds. */
const SEEDS: [ProtocolModule, string[]][] = [
  [mysql, ['s2c:530000000a31302e31312e362d4d6172696144420005000000616263646566676800fff72d0200ff811500000000000000000000696a6b6c6d6e6f7071727374006d7973716c5f6e61746976655f70617373776f726400', 'c2s:5400000108820800000000012100000000000000000000000000000000000000000000006170700014070707070707070707070707070707070707070773686f70006d7973716c5f6e61746976655f70617373776f726400']],
  [postgresql, ['c2s:0000003d000300007573657200616c696365006461746162617365006f7264657273006170706c69636174696f6e5f6e616d650062696c6c696e670000', 'c2s:0000000804d2162f']],
  [mongodb, ['c2s:380000000700000000000000dd0700000000000000230000001068656c6c6f000100000002246462000a000000696e76656e746f72790000', 'c2s:3a0000000100000000000000d40700000000000061646d696e2e24636d640000000000ffffffff130000001069734d6173746572000100000000']],
  [redis, ['c2s:2a330d0a24330d0a5345540d0a24340d0a757365720d0a24350d0a616c6963650d0a', 'c2s:50494e470d0a']],
  [memcached, ['c2s:7365742073657373696f6e3a34322030203336303020350d0a68656c6c6f0d0a', 'c2s:800000030000000000000003deadbeef0000000000000000666f6f']],
  [couchbase, ['c2s:801f00100000000000000014000000000000000000000000636f756368626173652d676f2f322e3600030007', 's2c:811f0000000000000000000400000000000000000000000000030007']],
  [cassandra, ['c2s:040000010500000000', 'c2s:0400000101000000390002000b43514c5f56455253494f4e0005332e302e30000b4452495645525f4e414d4500144461746153746178204a61766120447269766572']],
  [kafka, ['c2s:0000001a0012000300000001000a70726f64756365722d31000261023100', 's2c:0000000e00000001000000000000']],
  [amqp, ['c2s:414d515000000901', 'c2s:414d515003010000']],
  [mqtt, ['c2s:101400044d5154540402003c000873656e736f722d37', 'c2s:101400064d51497364700302003c00066c6567616379']],
  [nats, ['s2c:494e464f207b227365727665725f6964223a224e414243222c2276657273696f6e223a22322e31302e37222c22676f223a22676f312e3231222c22686f7374223a22302e302e302e30222c22706f7274223a343232322c226d61785f7061796c6f6164223a313034383537367d0d0a', 'c2s:434f4e4e454354207b22766572626f7365223a66616c73652c22706564616e746963223a66616c73652c226e616d65223a226f7264657273222c226c616e67223a22676f222c2276657273696f6e223a22312e33312e30222c2270726f746f636f6c223a317d0d0a50494e470d0a']],
  [stomp, ['c2s:434f4e4e4543540a6163636570742d76657273696f6e3a312e312c312e320a686f73743a2f76686f73740a6c6f67696e3a67756573740a70617373636f64653a67756573740a0a00', 's2c:434f4e4e45435445440d0a76657273696f6e3a312e320d0a7365727665723a4163746976654d512f352e31382e330d0a68656172742d626561743a302c300d0a0d0a00']],
  [openwire, ['c2s:00000012014163746976654d510000000c0100000000', 's2c:00000012014163746976654d510000000c0100000000']],
  [zookeeper, ['c2s:0000002d000000000000000000000000000075300000000000000000000000100000000000000000000000000000000000', 's2c:0000002500000000000075300100000abc000001000000100909090909090909090909090909090900']],
  [oracleTns, ['c2s:00b0000001000000013a012c0c4120007fff4f9800000001008e0022000000004141284445534352495054494f4e3d28414444524553533d2850524f544f434f4c3d5443502928484f53543d64622928504f52543d31353231292928434f4e4e4543545f444154413d28534552564943455f4e414d453d4f52434c5044423129284349443d2850524f4752414d3d73716c706c75732928484f53543d6170702928555345523d6f7261636c6529292929', 's2c:0020000002000000013a0c4120007fff010000000020000000000000']],
  [tds, ['c2s:1201001a0000010000000b00060100110001ff10000fff000002', 's2c:0401001a0000010000000b00060100110001ff10000fff000002']],
  [drda, ['c2s:0022d0410001001c1041000c115ed1c3c3f0f4f2f0f0000c115ae2d8d3f1f1f0f5f5', 's2c:0011d0020001000b14430007116dc4c2f2']],
  [elasticsearch, ['c2s:504f5354202f6c6f67732d323032342e30362f5f7365617263683f73697a653d313020485454502f312e310d0a486f73743a2065733a393230300d0a436f6e74656e742d547970653a206170706c69636174696f6e2f6a736f6e0d0a0d0a7b7d', 's2c:485454502f312e3120323030204f4b0d0a582d656c61737469632d70726f647563743a20456c61737469637365617263680d0a636f6e74656e742d747970653a206170706c69636174696f6e2f6a736f6e0d0a0d0a']],
  [elasticsearchTransport, ['c2s:455300000040000000000000000108007c0e330000001a0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000', 'c2s:4553ffffffff']],
  [ajp, ['c2s:1234004102020008485454502f312e3100000a2f73686f702f6361727400000831302e302e302e35000006636c69656e7400000a73686f702e6c6f63616c000050000000ff', 'c2s:123400010a']],
  [fastcgi, ['c2s:01010001000800000001010000000000', 's2c:01060001001e0000436f6e74656e742d747970653a20746578742f68746d6c0d0a0d0a3c703e']],
  [thrift, ['c2s:8001000100000007676574557365720000000100', 'c2s:000000148001000100000007676574557365720000000100']],
  [spark, ['c2s:0000000000000025030000000165a0bc010000001001000931302e302e302e31320000b6e9', 's2c:0000000000000019040000000165a0bc0100000004aced0005']],
  [rtsp, ['c2s:4f5054494f4e5320727473703a2f2f63616d2e6c6f63616c3a3535342f73747265616d3120525453502f312e300d0a435365713a20310d0a557365722d4167656e743a204c6962564c432f332e300d0a0d0a', 's2c:525453502f312e3020323030204f4b0d0a435365713a20310d0a5365727665723a204753747265616d65722052545350207365727665720d0a5075626c69633a2044455343524942452c2053455455502c20504c41590d0a0d0a']],
  [sip, ['s2c:5349502f322e30203138302052696e67696e670d0a435365713a2033313431353920494e564954450d0a0d0a']],
  [bgp, ['c2s:ffffffffffffffffffffffffffffffff002501045ba0005a0a0000010802064104fa56ea01', 's2c:ffffffffffffffffffffffffffffffff001304']],
  [radius, ['c2s:010700335a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a0107616c696365021201010101010101010101010101010101200661702d33', 's2c:0207001d5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a120977656c636f6d65']],
  [ssdp, ['c2s:4d2d534541524348202a20485454502f312e310d0a484f53543a203233392e3235352e3235352e3235303a313930300d0a4d414e3a2022737364703a646973636f766572220d0a4d583a20320d0a53543a2075726e3a6469616c2d6d756c746973637265656e2d6f72673a736572766963653a6469616c3a310d0a0d0a']],
  [netbiosNs, ['c2s:8a1f01100001000000000000204547454a454d45464644454646434647454646434341434143414341434143410000200001']],
  [git, ['c2s:303033366769742d75706c6f61642d7061636b202f70726f6a6563742e67697400686f73743d6769742e6578616d706c652e636f6d00', 's2c:30303561373231376137633765353832633436636563323261313330616466346239643764393530666261302048454144006d756c74695f61636b207468696e2d7061636b20736964652d62616e64206f66732d64656c74610a']],
  [rsync, ['c2s:405253594e43443a2033312e3020736861353132207368613235362073686131206d6435206d64340a6261636b7570730a', 's2c:405253594e43443a2033302e300a']],
  [irc, ['c2s:4e49434b206d6f6c6f6368746573740d0a55534552206d6f6c6f63682030202a203a4d6f6c6f636820546573740d0a', 's2c:3a636172642e667265656e6f64652e6e6574204e4f54494345202a203a2a2a2a204c6f6f6b696e6720757020796f757220686f73746e616d652e2e2e0d0a']],
  [rtmp, [`c2s:03${'00'.repeat(4)}${'00'.repeat(4)}${'5a'.repeat(1528)}`]],
  [whois, ['c2s:6578616d706c652e636f6d0d0a', 's2c:252049414e412057484f4953207365727665720a0a72656665723a202020202020202077686f69732e766572697369676e2d6772732e636f6d0a']],
  [sparkConnect, ['c2s:505249202a20485454502f322e300d0a0d0a534d0d0a0d0a000052010400000001838600053a70617468292f737061726b2e636f6e6e6563742e537061726b436f6e6e656374536572766963652f436f6e666967000c636f6e74656e742d74797065106170706c69636174696f6e2f67727063']],
];

const ANSWERS = new Set(['match', 'no', 'need-more']);

function run(p: ProtocolModule, data: Buffer, dir: Direction, context: ProbeContext): void {
  assert.ok(ANSWERS.has(p.probe(data, dir, context)), `${p.name} answered outside its three results`);
  const meta: FlowMeta = {};
  const more = p.extract?.(data, dir, context, meta);
  assert.ok(more === undefined || typeof more === 'boolean');
}

const direction = fc.constantFrom<Direction>('c2s', 's2c');
const transport = fc.constantFrom<Transport>('tcp', 'udp');

for (const [p, seeds] of SEEDS) {
  test(`${p.name} probe and extractor survive random bytes`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512, size: 'max' }), fc.uint8Array({ maxLength: 128 }), direction, transport, (data, other, dir, t) => {
        run(p, Buffer.from(data), dir, { transport: t, clientPort: 40000, serverPort: 0, other: Buffer.from(other) });
      }),
      { numRuns: 300 },
    );
  });

  test(`${p.name} probe and extractor survive mutated and truncated valid messages`, () => {
    const messages = seeds.map((s) => ({ dir: s.slice(0, 3) as Direction, bytes: Buffer.from(s.slice(4), 'hex') }));
    const mutation = fc.record({
      pick: fc.nat(),
      cut: fc.nat(),
      flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
      tail: fc.uint8Array({ maxLength: 32 }),
    });
    fc.assert(
      fc.property(mutation, ({ pick, cut, flips, tail }) => {
        const seed = messages[pick % messages.length] as { dir: Direction; bytes: Buffer };
        const bytes = Buffer.concat([seed.bytes.subarray(0, seed.bytes.length - (cut % (seed.bytes.length + 1))), Buffer.from(tail)]);
        for (const f of flips) if (bytes.length > 0) bytes[f.at % bytes.length] = f.value;
        const other = (messages[(pick + 1) % messages.length] as { bytes: Buffer }).bytes;
        run(p, bytes, seed.dir, { transport: p.transports[0] ?? 'tcp', clientPort: 40000, serverPort: 0, other });
      }),
      { numRuns: 300 },
    );
  });
}
