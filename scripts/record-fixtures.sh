#!/usr/bin/env bash
# Records the small pcap fixtures in test/fixtures/pcap/ from real clients talking to real servers.
# Two network namespaces (client pal-fx-c 10.200.1.1, server pal-fx-s 10.200.1.2) joined by one
# veth pair; for each protocol a server starts in pal-fx-s, tcpdump listens on the client's veth,
# a real client makes one short exchange, and the capture lands in test/fixtures/pcap/<name>.pcap.
#
# Usage (root): scripts/record-fixtures.sh [name...]   e.g. scripts/record-fixtures.sh http redis
# (all of them without names; OUT=dir writes the captures there instead).
# Needs the Debian packages of .ci/apt-packages and scripts/fixtures/apt-packages.
# Nothing outside the two namespaces and one temporary directory is touched, except /run/sshd
# (sshd's compiled-in privilege-separation directory), created only when missing and removed after.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/test/fixtures/pcap}
CLIENT_NS=pal-fx-c
SERVER_NS=pal-fx-s
CLIENT_IF=pal-fx-c0
SERVER_IF=pal-fx-s0
CLIENT_IP=10.200.1.1
SERVER_IP=10.200.1.2
# Fixed MACs so that re-recorded captures differ only where the programs differ.
CLIENT_MAC=02:00:0a:c8:01:01
SERVER_MAC=02:00:0a:c8:01:02
# The name the TLS and DNS fixtures are about.
SITE=shop.example
PASSWORD=palisade

ALL_PROTOCOLS=(http tls tls12 h2c ssh redis postgres mysql amqp mqtt nats dns-udp dns-tcp memcached ftp
  tftp snmp smtp imap pop3 syslog postgres-tls memcached-binary ldap socks openvpn)

log() { printf '[record-fixtures] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
in_client() { ip netns exec "$CLIENT_NS" "$@"; }
in_server() { ip netns exec "$SERVER_NS" "$@"; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, servers on privileged ports)"

WORK=""

# Every process in our two namespaces was started by this script: stop them all, politely first.
stop_namespace_processes() {
  local ns pids
  for ns in "$CLIENT_NS" "$SERVER_NS"; do
    [ -e "/run/netns/$ns" ] || continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
  done
  for _ in $(seq 50); do
    pids=""
    for ns in "$CLIENT_NS" "$SERVER_NS"; do
      [ -e "/run/netns/$ns" ] && pids="$pids$(ip netns pids "$ns" 2>/dev/null || true)"
    done
    [ -z "$pids" ] && return 0
    sleep 0.2
  done
  for ns in "$CLIENT_NS" "$SERVER_NS"; do
    [ -e "/run/netns/$ns" ] || continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && { log "killing stubborn processes in $ns: $pids"; kill -9 $pids 2>/dev/null || true; }
  done
}

remove_lab() {
  stop_namespace_processes
  ip netns del "$CLIENT_NS" 2>/dev/null || true
  ip netns del "$SERVER_NS" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  log "cleaning up"
  remove_lab
  if [ -n "$WORK" ]; then
    if [ -e "$WORK/made-run-sshd" ]; then rmdir /run/sshd 2>/dev/null || true; fi
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_lab() {
  log "removing leftovers of an earlier run (namespaces $CLIENT_NS, $SERVER_NS)"
  remove_lab
  log "creating namespaces $CLIENT_NS ($CLIENT_IP) and $SERVER_NS ($SERVER_IP) joined by a veth pair"
  ip netns add "$CLIENT_NS"
  ip netns add "$SERVER_NS"
  ip link add "$CLIENT_IF" netns "$CLIENT_NS" type veth peer name "$SERVER_IF" netns "$SERVER_NS"
  local ns dev mac ip
  for side in client server; do
    if [ "$side" = client ]; then ns=$CLIENT_NS dev=$CLIENT_IF mac=$CLIENT_MAC ip=$CLIENT_IP
    else ns=$SERVER_NS dev=$SERVER_IF mac=$SERVER_MAC ip=$SERVER_IP; fi
    # IPv4 only: no router solicitations or neighbour discovery in the captures.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set dev "$dev" address "$mac"
    # Offloads off: captured checksums are real and no packet is larger than the MTU.
    ip netns exec "$ns" ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$ns" addr add "$ip/24" dev "$dev"
    ip -n "$ns" link set dev "$dev" up
    ip -n "$ns" link set dev lo up
  done
  # Static neighbours: no ARP before the first packet of a capture.
  ip -n "$CLIENT_NS" neigh replace "$SERVER_IP" lladdr "$SERVER_MAC" dev "$CLIENT_IF" nud permanent
  ip -n "$SERVER_NS" neigh replace "$CLIENT_IP" lladdr "$CLIENT_MAC" dev "$SERVER_IF" nud permanent
}

# wait_listen tcp|udp PORT: until a server in the server namespace listens there.
wait_listen() {
  local proto=$1 port=$2 flag=-Hltn
  [ "$proto" = udp ] && flag=-Hlun
  for _ in $(seq 150); do
    [ -n "$(in_server ss "$flag" "sport = :$port")" ] && return 0
    sleep 0.2
  done
  die "nothing listens on $proto/$port in $SERVER_NS after 30 s"
}

# start_server NAME CMD...: a server in the background of the server namespace, logging to $WORK.
start_server() {
  local name=$1; shift
  log "  server: $*"
  in_server "$@" >"$WORK/$name.server.log" 2>&1 &
}

# capture NAME CMD...: runs one client command in the client namespace while tcpdump records.
capture() {
  local name=$1; shift
  local file="$OUT/$name.pcap" tlog="$WORK/$name.tcpdump.log" pid
  rm -f "$file"
  # -Z root: the file is written by the tcpdump we started; "ip" leaves out nothing but ARP/IPv6.
  ip netns exec "$CLIENT_NS" tcpdump -Z root -U -n -i "$CLIENT_IF" -w "$file" ip 2>"$tlog" &
  pid=$!
  for _ in $(seq 100); do grep -qs 'listening on' "$tlog" && break; sleep 0.1; done
  grep -q 'listening on' "$tlog" || die "tcpdump did not start: $(cat "$tlog")"
  log "  client: $*"
  local rc=0
  in_client timeout 30 "$@" >"$WORK/$name.client.log" 2>&1 || rc=$?
  # Let the last FIN/ACKs cross before tcpdump stops.
  sleep 1
  kill -INT "$pid"
  wait "$pid" || true
  sed -n 's/^/  tcpdump: /p' "$tlog" | grep -v 'listening on' >&2 || true
  sed -n '1,5s/^/  client said: /p' "$WORK/$name.client.log" >&2
  [ "$rc" = 0 ] || [ "${ALLOW_CLIENT_FAILURE:-0}" = 1 ] || die "client for $name exited $rc"
  log "  wrote $file ($(stat -c %s "$file") bytes)"
}

need() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || die "missing $cmd (see test/fixtures/pcap/README.md for the Debian packages)"
  done
}

make_site() {
  [ -d "$WORK/www" ] && return 0
  mkdir -p "$WORK/www" "$WORK/nginx"
  printf 'hello from %s\n' "$SITE" >"$WORK/www/index.html"
  log "  self-signed certificate for $SITE (openssl, P-256)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=$SITE" -addext "subjectAltName=DNS:$SITE" \
    -keyout "$WORK/nginx/site.key" -out "$WORK/nginx/site.crt" 2>/dev/null
  cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
user root;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log info;
events { worker_connections 64; }
http {
  access_log $WORK/nginx/access.log;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  default_type text/html;
  server { listen $SERVER_IP:80; server_name $SITE; root $WORK/www; }
  server {
    listen $SERVER_IP:443 ssl http2;
    server_name $SITE;
    ssl_certificate $WORK/nginx/site.crt;
    ssl_certificate_key $WORK/nginx/site.key;
    root $WORK/www;
  }
  server { listen $SERVER_IP:8080 http2; server_name $SITE; root $WORK/www; }
}
EOF
}

with_nginx() {
  need nginx curl openssl
  make_site
  start_server nginx nginx -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
  wait_listen tcp 80
  wait_listen tcp 443
  wait_listen tcp 8080
}

record_http() {
  with_nginx
  capture http curl -sS --resolve "$SITE:80:$SERVER_IP" "http://$SITE/"
}

record_tls() {
  with_nginx
  capture tls curl -sS --cacert "$WORK/nginx/site.crt" --resolve "$SITE:443:$SERVER_IP" "https://$SITE/"
}

record_tls12() {
  with_nginx
  capture tls12 curl -sS --tls-max 1.2 --cacert "$WORK/nginx/site.crt" --resolve "$SITE:443:$SERVER_IP" "https://$SITE/"
}

record_h2c() {
  with_nginx
  capture h2c curl -sS --http2-prior-knowledge --resolve "$SITE:8080:$SERVER_IP" "http://$SITE:8080/"
}

record_ssh() {
  need /usr/sbin/sshd ssh ssh-keygen
  if [ ! -d /run/sshd ]; then mkdir -m 755 /run/sshd && touch "$WORK/made-run-sshd"; fi
  mkdir -p "$WORK/ssh"
  ssh-keygen -q -t ed25519 -N '' -C palisade-fixture -f "$WORK/ssh/host_ed25519" <<<y >/dev/null
  cat >"$WORK/ssh/sshd_config" <<EOF
ListenAddress $SERVER_IP:22
HostKey $WORK/ssh/host_ed25519
PidFile $WORK/ssh/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
EOF
  start_server sshd /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
  wait_listen tcp 22
  # No credentials on purpose: banners, key exchange, then a refused authentication.
  ALLOW_CLIENT_FAILURE=1 capture ssh ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o IdentityAgent=none -o PubkeyAuthentication=no \
    -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no "shop@$SERVER_IP" true
}

record_redis() {
  need redis-server redis-cli
  mkdir -p "$WORK/redis"
  start_server redis redis-server --bind "$SERVER_IP" --port 6379 --protected-mode no --save '' \
    --appendonly no --daemonize no --dir "$WORK/redis"
  wait_listen tcp 6379
  # Commands as arguments: fed on stdin, redis-cli turns interactive and first fetches COMMAND DOCS.
  capture redis sh -c "redis-cli -h $SERVER_IP -p 6379 SET shop:greeting hello && redis-cli -h $SERVER_IP -p 6379 GET shop:greeting"
}

record_postgres() {
  local bin=/usr/lib/postgresql/15/bin
  need "$bin/initdb" "$bin/postgres" psql setpriv
  # Plain by default; POSTGRES_TLS=1: SSLRequest, 'S', then TLS with a certificate for db.shop.example.
  local name=postgres ssl=(-c ssl=off) sslmode=disable
  [ "${POSTGRES_TLS:-0}" = 1 ] && name=postgres-tls sslmode=require
  local pg=$WORK/$name
  mkdir -p "$pg"
  chmod 755 "$WORK"
  printf '%s\n' "$PASSWORD" >"$pg/pwfile"
  chown -R postgres:postgres "$pg"
  log "  initdb in $pg/data as postgres"
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$bin/initdb" -D "$pg/data" \
    -U postgres --pwfile="$pg/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    >"$pg/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$pg/initdb.log")"
  echo "host all all $CLIENT_IP/32 scram-sha-256" >>"$pg/data/pg_hba.conf"
  if [ "$name" = postgres-tls ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj "/CN=db.$SITE" -addext "subjectAltName=DNS:db.$SITE" \
      -keyout "$pg/server.key" -out "$pg/server.crt" 2>/dev/null
    chown postgres:postgres "$pg/server.key" "$pg/server.crt"
    chmod 600 "$pg/server.key"
    ssl=(-c ssl=on -c ssl_cert_file="$pg/server.crt" -c ssl_key_file="$pg/server.key")
  fi
  # postgres in the foreground (what pg_ctl start would run) so that it is ours by PID.
  start_server postgres setpriv --reuid=postgres --regid=postgres --init-groups -- "$bin/postgres" \
    -D "$pg/data" -c listen_addresses="$SERVER_IP" -c port=5432 \
    -c unix_socket_directories="$pg" "${ssl[@]}" -c logging_collector=off
  wait_listen tcp 5432
  capture "$name" env PGPASSWORD="$PASSWORD" psql -X \
    "host=$SERVER_IP port=5432 user=postgres dbname=postgres sslmode=$sslmode application_name=palisade-fixture" \
    -c "SELECT 1 AS one, 'palisade' AS name"
}

record_mysql() {
  need mariadb-install-db mariadbd mariadb
  mkdir -p "$WORK/mysql"
  log "  mariadb-install-db in $WORK/mysql/data"
  mariadb-install-db --no-defaults --datadir="$WORK/mysql/data" --user=root --skip-test-db \
    --auth-root-authentication-method=socket >"$WORK/mysql/install.log" 2>&1 \
    || die "mariadb-install-db failed: $(tail -5 "$WORK/mysql/install.log")"
  cat >"$WORK/mysql/init.sql" <<EOF
CREATE USER IF NOT EXISTS 'shop'@'%' IDENTIFIED BY '$PASSWORD';
GRANT SELECT ON *.* TO 'shop'@'%';
EOF
  start_server mysql mariadbd --no-defaults --datadir="$WORK/mysql/data" --user=root \
    --bind-address="$SERVER_IP" --port=3306 --socket="$WORK/mysql/mysqld.sock" \
    --pid-file="$WORK/mysql/mysqld.pid" --log-error="$WORK/mysql/error.log" --skip-name-resolve \
    --skip-log-bin --innodb-buffer-pool-size=16M --innodb-log-file-size=8M \
    --init-file="$WORK/mysql/init.sql"
  wait_listen tcp 3306
  capture mysql mariadb --no-defaults -h "$SERVER_IP" -P 3306 -u shop -p"$PASSWORD" \
    -e "SELECT 1 AS one, 'palisade' AS name"
}

record_amqp() {
  need /usr/lib/rabbitmq/bin/rabbitmq-server amqp-publish
  local base=$WORK/rabbit
  mkdir -p "$base/home" "$base/mnesia" "$base/log"
  : >"$base/env.conf"
  echo '[].' >"$base/enabled_plugins"
  cat >"$base/rabbitmq.conf" <<EOF
listeners.tcp.1 = $SERVER_IP:5672
loopback_users = none
EOF
  # A separate node with its own name, files and cookie: the machine's own broker is not involved.
  start_server amqp env -u ERL_FLAGS HOME="$base/home" RABBITMQ_NODENAME=palfx@localhost \
    RABBITMQ_CONF_ENV_FILE="$base/env.conf" RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" RABBITMQ_MNESIA_BASE="$base/mnesia" \
    RABBITMQ_LOG_BASE="$base/log" RABBITMQ_PID_FILE="$base/rabbit.pid" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config" \
    /usr/lib/rabbitmq/bin/rabbitmq-server
  wait_listen tcp 5672
  capture amqp amqp-publish --url="amqp://guest:guest@$SERVER_IP:5672" \
    --routing-key=shop.orders --body='order 42'
}

record_mqtt() {
  need mosquitto mosquitto_pub
  mkdir -p "$WORK/mqtt"
  cat >"$WORK/mqtt/mosquitto.conf" <<EOF
listener 1883 $SERVER_IP
allow_anonymous true
persistence false
log_dest stderr
EOF
  start_server mqtt mosquitto -c "$WORK/mqtt/mosquitto.conf"
  wait_listen tcp 1883
  capture mqtt mosquitto_pub -h "$SERVER_IP" -p 1883 -i palisade-fixture -q 1 -t shop/orders -m 'order 42'
}

record_nats() {
  need nats-server gcc
  [ -f /usr/include/nats/nats.h ] || die "missing the NATS C client headers (Debian package libnats-dev)"
  gcc -O1 -o "$WORK/nats-pub" "$ROOT/scripts/fixtures/nats-pub.c" -lnats
  start_server nats nats-server -a "$SERVER_IP" -p 4222 -n palfx
  wait_listen tcp 4222
  capture nats "$WORK/nats-pub" "nats://$SERVER_IP:4222" shop.orders 'order 42'
}

with_dnsmasq() {
  need dnsmasq dig
  start_server dns dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
    --listen-address="$SERVER_IP" --bind-interfaces --port=53 --pid-file="$WORK/dnsmasq.pid" \
    --host-record="$SITE,$SERVER_IP" --host-record="db.$SITE,10.200.1.3" \
    --txt-record="$SITE,palisade fixture" --log-queries --log-facility=-
  wait_listen udp 53
  wait_listen tcp 53
}

record_dns_udp() {
  with_dnsmasq
  capture dns-udp dig +tries=1 +time=3 "@$SERVER_IP" "$SITE" A
}

record_dns_tcp() {
  with_dnsmasq
  capture dns-tcp dig +tcp +tries=1 +time=3 "@$SERVER_IP" "db.$SITE" A
}

record_memcached() {
  need memcached memccp memccat
  mkdir -p "$WORK/memcached"
  start_server memcached memcached -u nobody -l "$SERVER_IP" -p 11211 -U 0 -m 8
  wait_listen tcp 11211
  printf 'order 42\n' >"$WORK/memcached/shop-order"
  # The text protocol by default; MEMCACHED_BINARY=1: the binary protocol.
  local name=memcached binary=
  [ "${MEMCACHED_BINARY:-0}" = 1 ] && name=memcached-binary binary=--binary
  capture "$name" sh -c "cd $WORK/memcached && memccp $binary --servers=$SERVER_IP:11211 shop-order && memccat $binary --servers=$SERVER_IP:11211 shop-order"
}

record_ftp() {
  need vsftpd curl
  mkdir -p "$WORK/ftp/root" "$WORK/ftp/empty"
  chmod 755 "$WORK" "$WORK/ftp" "$WORK/ftp/root" "$WORK/ftp/empty"
  printf 'order 42\n' >"$WORK/ftp/root/orders.txt"
  chmod 644 "$WORK/ftp/root/orders.txt"
  cat >"$WORK/ftp/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$SERVER_IP
background=NO
anonymous_enable=YES
anon_root=$WORK/ftp/root
no_anon_password=YES
local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_min_port=30000
pasv_max_port=30000
pasv_address=$SERVER_IP
secure_chroot_dir=$WORK/ftp/empty
seccomp_sandbox=NO
xferlog_enable=NO
vsftpd_log_file=$WORK/ftp/vsftpd.log
EOF
  start_server ftp vsftpd "$WORK/ftp/vsftpd.conf"
  wait_listen tcp 21
  capture ftp curl -sS "ftp://$SERVER_IP/orders.txt"
}

record_tftp() {
  need in.tftpd tftp
  mkdir -p "$WORK/tftp/root" "$WORK/tftp/got"
  chmod 755 "$WORK" "$WORK/tftp" "$WORK/tftp/root"
  printf 'order 42\n' >"$WORK/tftp/root/orders.txt"
  chmod 644 "$WORK/tftp/root/orders.txt"
  start_server tftp in.tftpd --foreground --listen --address "$SERVER_IP:69" --user root --secure "$WORK/tftp/root"
  wait_listen udp 69
  capture tftp tftp -m octet "$SERVER_IP" -c get orders.txt "$WORK/tftp/got/orders.txt"
}

record_snmp() {
  need snmpd snmpget
  mkdir -p "$WORK/snmp/persist"
  cat >"$WORK/snmp/snmpd.conf" <<EOF
rocommunity public $CLIENT_IP/32
sysName shop-db
sysLocation palisade fixture lab
sysContact shop@$SITE
EOF
  # -C: this configuration only; MIBS empty: numeric OIDs, no MIB files needed.
  start_server snmp env SNMP_PERSISTENT_DIR="$WORK/snmp/persist" MIBS= snmpd -f -C -c "$WORK/snmp/snmpd.conf" \
    -Lo -p "$WORK/snmp/snmpd.pid" "udp:$SERVER_IP:161"
  wait_listen udp 161
  capture snmp env SNMP_PERSISTENT_DIR="$WORK/snmp/persist" MIBS= snmpget -v2c -c public -On "$SERVER_IP" 1.3.6.1.2.1.1.5.0 1.3.6.1.2.1.1.6.0
}

record_smtp() {
  need /usr/bin/python3 curl
  /usr/bin/python3 -W ignore -c 'import smtpd' 2>/dev/null || die "python3 has no smtpd module (Python 3.11 is needed)"
  mkdir -p "$WORK/smtp"
  cat >"$WORK/smtp/order.eml" <<EOF
From: Shop <orders@$SITE>
To: Warehouse <warehouse@$SITE>
Subject: order 42

order 42
EOF
  # Python's own SMTP server (the stdlib smtpd module of Python 3.11): accepts and prints each message.
  start_server smtp /usr/bin/python3 -W ignore -m smtpd -n -c DebuggingServer "$SERVER_IP:25"
  wait_listen tcp 25
  capture smtp curl -sS "smtp://$SERVER_IP/client.$SITE" --mail-from "orders@$SITE" \
    --mail-rcpt "warehouse@$SITE" --upload-file "$WORK/smtp/order.eml"
}

with_dovecot() {
  need dovecot curl
  local d=$WORK/dovecot
  mkdir -p "$d/run" "$d/state" "$d/home"
  chmod 755 "$WORK" "$d"
  chmod 777 "$d/home"
  cat >"$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols = imap pop3
listen = $SERVER_IP
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = static
  args = password=$PASSWORD
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home/%u
}
mail_location = maildir:~/Maildir
EOF
  start_server dovecot dovecot -F -c "$d/dovecot.conf"
  wait_listen tcp 143
  wait_listen tcp 110
}

record_imap() {
  with_dovecot
  capture imap curl -sS --user "shop:$PASSWORD" "imap://$SERVER_IP/"
}

record_pop3() {
  with_dovecot
  capture pop3 curl -sS --user "shop:$PASSWORD" "pop3://$SERVER_IP/"
}

record_syslog() {
  need rsyslogd logger
  mkdir -p "$WORK/syslog"
  cat >"$WORK/syslog/rsyslog.conf" <<EOF
module(load="imudp")
input(type="imudp" address="$SERVER_IP" port="514")
*.* action(type="omfile" file="$WORK/syslog/messages")
EOF
  start_server syslog rsyslogd -n -f "$WORK/syslog/rsyslog.conf" -i "$WORK/syslog/rsyslogd.pid"
  wait_listen udp 514
  # RFC 5424 over UDP, one message, as an application on a workload would send it.
  capture syslog logger --udp --server "$SERVER_IP" --port 514 --rfc5424 --tag shop-api \
    --priority local0.warning 'order 42 rejected: card declined'
}

record_postgres_tls() {
  POSTGRES_TLS=1 record_postgres
}

record_memcached_binary() {
  MEMCACHED_BINARY=1 record_memcached
}

record_ldap() {
  need slapd ldapsearch
  local l=$WORK/ldap
  mkdir -p "$l/db"
  cat >"$l/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $l/slapd.pid
argsfile $l/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "dc=shop,dc=example"
rootdn "cn=admin,dc=shop,dc=example"
rootpw $PASSWORD
directory $l/db
EOF
  cat >"$l/base.ldif" <<EOF
dn: dc=shop,dc=example
objectClass: dcObject
objectClass: organization
dc: shop
o: Shop

dn: uid=orders,dc=shop,dc=example
objectClass: inetOrgPerson
uid: orders
cn: Orders Service
sn: Orders
mail: orders@$SITE
EOF
  slapadd -f "$l/slapd.conf" -l "$l/base.ldif" >"$l/slapadd.log" 2>&1 || die "slapadd failed: $(tail -3 "$l/slapadd.log")"
  # -d 0: stay in the foreground (ours by PID) without debug output.
  start_server ldap slapd -d 0 -f "$l/slapd.conf" -h "ldap://$SERVER_IP/"
  wait_listen tcp 389
  capture ldap ldapsearch -x -H "ldap://$SERVER_IP" -D "cn=admin,dc=shop,dc=example" -w "$PASSWORD" \
    -b "dc=shop,dc=example" "(uid=orders)" cn mail
}

record_socks() {
  need danted curl
  with_nginx
  cat >"$WORK/danted.conf" <<EOF
logoutput: stderr
internal: $SERVER_IP port = 1080
external: $SERVER_IF
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: $CLIENT_IP/32 to: 0.0.0.0/0 }
socks pass { from: $CLIENT_IP/32 to: $SERVER_IP/32 }
EOF
  start_server socks danted -f "$WORK/danted.conf" -p "$WORK/danted.pid"
  wait_listen tcp 1080
  # SOCKS5 greeting and CONNECT to 10.200.1.2:80 (the nginx of the http fixture), then HTTP through it.
  capture socks curl -sS --socks5 "$SERVER_IP:1080" "http://$SERVER_IP/"
}

record_openvpn() {
  need openvpn openssl
  local v=$WORK/openvpn
  mkdir -p "$v"
  log "  a CA, a server and a client certificate (openssl, P-256)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Palisade fixture CA" \
    -keyout "$v/ca.key" -out "$v/ca.crt" 2>/dev/null
  local side usage
  for side in server client; do
    usage=serverAuth
    [ "$side" = client ] && usage=clientAuth
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=vpn-$side.$SITE" \
      -keyout "$v/$side.key" -out "$v/$side.csr" 2>/dev/null
    printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature,keyAgreement\n' "$usage" >"$v/$side.ext"
    openssl x509 -req -in "$v/$side.csr" -CA "$v/ca.crt" -CAkey "$v/ca.key" -CAcreateserial -days 30 \
      -extfile "$v/$side.ext" -out "$v/$side.crt" 2>/dev/null
  done
  # Point to point over UDP in TLS mode; the tunnel's own addresses stay inside 10.200.0.0/16.
  start_server openvpn openvpn --mode p2p --dev-type tun --dev pal-vpn0 --proto udp --local "$SERVER_IP" \
    --lport 1194 --tls-server --ca "$v/ca.crt" --cert "$v/server.crt" --key "$v/server.key" --dh none \
    --ifconfig 10.200.2.2 10.200.2.1 --verb 3
  wait_listen udp 1194
  # The client connects, sends one datagram through the tunnel once it is up, and leaves.
  cat >"$v/client.sh" <<EOF
openvpn --dev-type tun --dev pal-vpn0 --proto udp --remote $SERVER_IP 1194 --nobind --tls-client \\
  --remote-cert-tls server --ca $v/ca.crt --cert $v/client.crt --key $v/client.key \\
  --ifconfig 10.200.2.1 10.200.2.2 --verb 3 --log $v/client.log &
vpn=\$!
for _ in \$(seq 100); do grep -qs 'Initialization Sequence Completed' $v/client.log && break; sleep 0.2; done
grep -qs 'Initialization Sequence Completed' $v/client.log || { kill \$vpn; exit 1; }
printf 'order 42' >/dev/udp/10.200.2.2/9
sleep 0.5
kill -TERM \$vpn
wait \$vpn
exit 0
EOF
  capture openvpn bash "$v/client.sh"
}

main() {
  local wanted=("$@") p failed=() rc
  [ ${#wanted[@]} -gt 0 ] || wanted=("${ALL_PROTOCOLS[@]}")
  for p in "${wanted[@]}"; do
    declare -F "record_${p//-/_}" >/dev/null || die "unknown fixture '$p' (known: ${ALL_PROTOCOLS[*]})"
  done
  need ip tcpdump ss timeout ethtool
  WORK=$(mktemp -d /tmp/pal-fx.XXXXXX)
  mkdir -p "$OUT"
  make_lab
  for p in "${wanted[@]}"; do
    log "== $p"
    # Each fixture in a subshell, so that one server failing to start costs only that fixture.
    set +e
    (set -e; "record_${p//-/_}")
    rc=$?
    set -e
    stop_namespace_processes
    # Killed by a signal (Ctrl-C reaches the whole process group): stop, do not go on to the next.
    [ "$rc" -lt 128 ] || exit "$rc"
    if [ "$rc" != 0 ]; then
      failed+=("$p")
      log "== $p FAILED (exit $rc); the last lines its programs wrote:"
      tail -n 5 "$WORK"/*.log >&2 2>/dev/null || true
    fi
  done
  if [ ${#failed[@]} -gt 0 ]; then
    log "failed: ${failed[*]}"
    return 1
  fi
  log "all recorded into $OUT"
}

main "$@"
