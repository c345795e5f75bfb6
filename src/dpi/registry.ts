// The protocol registry: a list, not a switch. Order matters only as a tie-breaker when two
// probes match the same bytes; refining protocols (gRPC in HTTP/2) are listed after their parent.
// The more a probe's match proves (fixed magic, exact sizes, parsed structure), the earlier it is.

import { dhcp } from './protocols/dhcp.js';
import { dns } from './protocols/dns.js';
import { echo } from './protocols/echo.js';
import { ftp } from './protocols/ftp.js';
import { grpc } from './protocols/grpc.js';
import { http } from './protocols/http.js';
import { http2 } from './protocols/http2.js';
import { ike } from './protocols/ike.js';
import { imap } from './protocols/imap.js';
import { kerberos } from './protocols/kerberos.js';
import { ldap } from './protocols/ldap.js';
import { ntp } from './protocols/ntp.js';
import { openvpn } from './protocols/openvpn.js';
import { pop3 } from './protocols/pop3.js';
import { quic } from './protocols/quic.js';
import { rdp } from './protocols/rdp.js';
import { smb } from './protocols/smb.js';
import { smtp } from './protocols/smtp.js';
import { snmp } from './protocols/snmp.js';
import { socks } from './protocols/socks.js';
import { ssh } from './protocols/ssh.js';
import { stun } from './protocols/stun.js';
import { syslog } from './protocols/syslog.js';
import { telnet } from './protocols/telnet.js';
import { tftp } from './protocols/tftp.js';
import { tls } from './protocols/tls.js';
import { vnc } from './protocols/vnc.js';
import { websocket } from './protocols/websocket.js';
import { wireguard } from './protocols/wireguard.js';
import type { ProtocolModule } from './types.js';

export const protocols: readonly ProtocolModule[] = [
  tls, http, websocket, http2, grpc, quic, ssh, smb, rdp, vnc,
  kerberos, ldap, snmp, dhcp, stun, wireguard, openvpn, ike, tftp, dns, ntp,
  socks, ftp, smtp, pop3, imap, telnet, syslog, echo,
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
