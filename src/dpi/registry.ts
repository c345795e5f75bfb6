// The protocol registry: a list, not a switch. Order matters only as a tie-breaker when two
// probes match the same bytes; refining protocols (gRPC in HTTP/2) are listed after their parent.
// The more a probe's match proves (fixed magic, exact sizes, parsed structure), the earlier it is.

import { ajp } from './protocols/ajp.js';
import { amqp } from './protocols/amqp.js';
import { bgp } from './protocols/bgp.js';
import { cassandra } from './protocols/cassandra.js';
import { couchbase } from './protocols/couchbase.js';
import { dhcp } from './protocols/dhcp.js';
import { dns } from './protocols/dns.js';
import { drda } from './protocols/drda.js';
import { echo } from './protocols/echo.js';
import { elasticsearch } from './protocols/elasticsearch.js';
import { elasticsearchTransport } from './protocols/elasticsearch-transport.js';
import { fastcgi } from './protocols/fastcgi.js';
import { ftp } from './protocols/ftp.js';
import { git } from './protocols/git.js';
import { grpc } from './protocols/grpc.js';
import { http } from './protocols/http.js';
import { http2 } from './protocols/http2.js';
import { ike } from './protocols/ike.js';
import { imap } from './protocols/imap.js';
import { irc } from './protocols/irc.js';
import { kafka } from './protocols/kafka.js';
import { kerberos } from './protocols/kerberos.js';
import { ldap } from './protocols/ldap.js';
import { memcached } from './protocols/memcached.js';
import { mongodb } from './protocols/mongodb.js';
import { mqtt } from './protocols/mqtt.js';
import { mysql } from './protocols/mysql.js';
import { nats } from './protocols/nats.js';
import { netbiosNs } from './protocols/netbios-ns.js';
import { ntp } from './protocols/ntp.js';
import { openvpn } from './protocols/openvpn.js';
import { openwire } from './protocols/openwire.js';
import { oracleTns } from './protocols/oracle-tns.js';
import { pop3 } from './protocols/pop3.js';
import { postgresql } from './protocols/postgresql.js';
import { quic } from './protocols/quic.js';
import { radius } from './protocols/radius.js';
import { rdp } from './protocols/rdp.js';
import { redis } from './protocols/redis.js';
import { rsync } from './protocols/rsync.js';
import { rtmp } from './protocols/rtmp.js';
import { rtsp } from './protocols/rtsp.js';
import { sip } from './protocols/sip.js';
import { smb } from './protocols/smb.js';
import { smtp } from './protocols/smtp.js';
import { snmp } from './protocols/snmp.js';
import { socks } from './protocols/socks.js';
import { sparkConnect } from './protocols/spark-connect.js';
import { spark } from './protocols/spark.js';
import { ssdp } from './protocols/ssdp.js';
import { ssh } from './protocols/ssh.js';
import { stomp } from './protocols/stomp.js';
import { stun } from './protocols/stun.js';
import { syslog } from './protocols/syslog.js';
import { tds } from './protocols/tds.js';
import { telnet } from './protocols/telnet.js';
import { tftp } from './protocols/tftp.js';
import { thrift } from './protocols/thrift.js';
import { tls } from './protocols/tls.js';
import { vnc } from './protocols/vnc.js';
import { websocket } from './protocols/websocket.js';
import { whois } from './protocols/whois.js';
import { wireguard } from './protocols/wireguard.js';
import { zookeeper } from './protocols/zookeeper.js';
import type { ProtocolModule } from './types.js';

export const protocols: readonly ProtocolModule[] = [
  tls, http, websocket, elasticsearch, http2, sparkConnect, grpc, quic, ssh, smb, rdp, vnc,
  postgresql, mysql, tds, oracleTns, drda, mongodb, cassandra, kafka, amqp, mqtt, zookeeper,
  openwire, thrift, spark, ajp, fastcgi, couchbase, memcached, elasticsearchTransport, rtmp, bgp,
  kerberos, ldap, snmp, dhcp, stun, wireguard, openvpn, ike, radius, tftp, netbiosNs, dns, ntp,
  ssdp, sip, rtsp, socks, redis, nats, stomp, git, rsync, irc, whois,
  ftp, smtp, pop3, imap, telnet, syslog, echo,
];

const byName = new Map<string, ProtocolModule>();
for (const p of protocols) {
  for (const n of [p.name, ...(p.aliases ?? [])]) byName.set(n.toLowerCase(), p);
}

/** Looks a protocol up by name or alias, case-insensitively. */
export function findProtocol(name: string): ProtocolModule | undefined {
  return byName.get(name.toLowerCase());
}

/** Every name and alias users may write, in registry order. */
export function applicationNames(): string[] {
  return protocols.flatMap((p) => [p.name, ...(p.aliases ?? [])]);
}
