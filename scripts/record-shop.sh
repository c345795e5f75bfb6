#!/usr/bin/env bash
# Records examples/shop/capture.pcap: the shop's normal traffic as the lab runs it. `palisade lab
# up` builds the shop in pal- namespaces (real nginx, postgres, redis, rabbitmq, dnsmasq and the
# shop's Node services, customers visiting every 2 s); tcpdump listens on the bridge in pal-node,
# where every pod's traffic crosses, for DURATION seconds; then the lab goes down.
#
# Usage (root): scripts/record-shop.sh       env: DURATION (s, default 25), SNAPLEN (bytes, default 512)
# Writes examples/shop/capture.pcap (see examples/shop/capture.md). The lab gives every workload the
# address examples/shop/inventory.yaml says it holds now, so that file attributes the capture.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/examples/shop/capture.pcap}
DURATION=${DURATION:-25}
SNAPLEN=${SNAPLEN:-512}
STATE=$(mktemp -d /tmp/pal-record-shop.XXXXXX)
TCPDUMP_PID=""

log() { printf '[record-shop] %s\n' "$*" >&2; }
palisade() { (cd "$ROOT" && node --import tsx scripts/palisade.ts "$@"); }

[ "$(id -u)" = 0 ] || { log "error: must run as root (network namespaces)"; exit 2; }

cleanup() {
  local rc=$?
  if [ -n "$TCPDUMP_PID" ] && kill -0 "$TCPDUMP_PID" 2>/dev/null; then kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; fi
  palisade lab down --state "$STATE" >&2 || rc=1
  rm -rf "$STATE"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

palisade lab up --state "$STATE" >&2
LAB_INVENTORY="$STATE/inventory.yaml"

TMP_PCAP="$STATE/capture.pcap"
# -Z root: the file is written by the tcpdump we started; "ip" leaves out ARP and nothing else.
ip netns exec pal-node tcpdump -Z root -U -n -s "$SNAPLEN" -i br0 -w "$TMP_PCAP" ip 2>"$STATE/tcpdump.log" &
TCPDUMP_PID=$!
for _ in $(seq 100); do grep -qs 'listening on' "$STATE/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$STATE/tcpdump.log" || { log "error: tcpdump did not start: $(cat "$STATE/tcpdump.log")"; exit 1; }
log "capturing on br0 in pal-node for $DURATION s (snaplen $SNAPLEN)"
sleep "$DURATION"
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" || true
TCPDUMP_PID=""
sed -n 's/^/  tcpdump: /p' "$STATE/tcpdump.log" | grep -v 'listening on' >&2 || true
log "customer rounds during the capture: $(grep -c '200 200 200' "$STATE/logs/customers.log") all-200 of $(wc -l <"$STATE/logs/customers.log")"

mv "$TMP_PCAP" "$OUT"
log "wrote $OUT ($(stat -c %s "$OUT") bytes)"
log "flows by application (with the lab's inventory):"
palisade inspect "$OUT" --inventory "$LAB_INVENTORY" | tail -n 25 >&2
