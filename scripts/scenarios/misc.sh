# scenarios/misc.sh - ICMP tunnel, relays (socat, stunnel) and benign bulk/ping captures.
# Sourced by scripts/make-pcaps.sh; uses its helpers and variables (CLI, SRV, S4, T, OUT...).
#
# Relay lab: the server namespace plays the relay host. A third namespace, $LAB-bak, holds
# the real backend behind a second veth pair (relay veth-rly 10.77.1.1 <-> veth-bak
# 10.77.1.2). Both of the relay's interfaces are captured and merged into one Ethernet pcap,
# so the inbound leg (client -> relay) and the outbound leg (relay -> backend) are both on
# the wire, as a sensor at the relay host's switch port would see them.

ALL_SCENARIOS+=(icmp-tunnel-ptunnel icmp-ping socat-relay-3389 stunnel-443 https-bulk-443)

BAK=${LAB:-th}-bak
RIF=veth-rly BIF=veth-bak
R4=10.77.1.1 B4=10.77.1.2
BAK_CAP_PID=

# The backend namespace and its link to the relay (server) namespace.
misc_backend_up() {
  misc_backend_down
  ip netns add "$BAK"
  ip link add "$RIF" netns "$SRV" address 02:77:00:00:01:01 type veth \
    peer name "$BIF" netns "$BAK" address 02:77:00:00:01:02
  local ns ifc
  for ns in "$SRV" "$BAK"; do
    ifc=$RIF
    [[ $ns == "$BAK" ]] && ifc=$BIF
    ip netns exec "$ns" ethtool -K "$ifc" tx off rx off tso off gso off gro off \
      >/dev/null 2>&1 || true
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set "$ifc" up
  done
  in_srv ip addr add "$R4/24" dev "$RIF"
  ip netns exec "$BAK" ip addr add "$B4/24" dev "$BIF"
}

misc_backend_down() {
  ip netns list | grep -qw "^$BAK" || return 0
  local p
  for p in $(ip netns pids "$BAK" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$BAK"
}

in_bak() { ip netns exec "$BAK" "$@"; }

# Second tcpdump on the relay's backend-side interface, started right after cap_start.
misc_cap2_start() { # name
  : >"$T/log/tcpdump-$1-bak.log"
  in_srv tcpdump -i "$RIF" -s 0 -U --immediate-mode -nn -Z root -w "$T/$1-bak.pcap" \
    2>"$T/log/tcpdump-$1-bak.log" &
  BAK_CAP_PID=$!
  BG_PIDS+=("$BAK_CAP_PID")
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q 'listening on' "$T/log/tcpdump-$1-bak.log" && break
    sleep 0.1
  done
  grep -q 'listening on' "$T/log/tcpdump-$1-bak.log" || die "second tcpdump did not start"
}

# Stop both captures and merge them by timestamp into $OUT/name.pcap.
misc_cap2_stop() { # name
  cap_stop
  stop_pid "$BAK_CAP_PID" TERM 50
  mergecap -F pcap -w "$T/$1-merged.pcap" "$OUT/$1.pcap" "$T/$1-bak.pcap" \
    || die "mergecap failed"
  mv "$T/$1-merged.pcap" "$OUT/$1.pcap"
}

# finalize.py names only the first interface; say that both were captured and merged.
misc_note_merge() { # name
  python3 - "$OUT/$1.json" "$SIF" "$RIF" <<'PY'
import json, sys
path, a, b = sys.argv[1:4]
doc = json.load(open(path))
doc['capture']['interface'] = (f'{a} + {b}: both interfaces of the relay host (th-srv), '
                               'two tcpdumps merged by timestamp with mergecap')
with open(path, 'w') as fh:
    json.dump(doc, fh, indent=2)
    fh.write('\n')
PY
}

# Random bulk both ways after an X.224 connection request/confirm, like fakerdp.py but
# listening on (or connecting to) any address, for the relay scenarios.
misc_write_rdp() {
  cat >"$T/misc-rdp.py" <<'PY'
import os, select, socket, sys, time
mode, host, port, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
CR = bytes.fromhex('030000130ee000000000000100080003000000')
CC = bytes.fromhex('030000130ed000001234000201080002000000')
def pump(s, chunk, every):
    end, nxt = time.time() + seconds, 0.0
    s.setblocking(False)
    while time.time() < end:
        r, _, _ = select.select([s], [], [], 0.02)
        if r:
            try:
                if not s.recv(65536):
                    return
            except BlockingIOError:
                pass
        if time.time() >= nxt:
            try:
                s.send(os.urandom(chunk))
            except BlockingIOError:
                pass
            nxt = time.time() + every
if mode == 'server':
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1)
    ls.settimeout(60)
    s, _ = ls.accept()
    s.settimeout(10)
    s.recv(64)
    s.sendall(CC)
    pump(s, 1400, 0.1)
    s.close()
else:
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(CR)
    s.recv(64)
    pump(s, 300, 0.1)
    s.close()
PY
}

sc_icmp_tunnel_ptunnel() {
  local name=icmp-tunnel-ptunnel
  start_sshd 22
  audit_start $name
  bg_in "$SRV" ptunnel-proxy ptunnel-ng -r"$S4" -R22 -v 1 -o"$T/log/ptunnel-proxy.txt"
  local ppid=$LAST_PID
  sleep 1
  cap_start $name
  bg_in "$CLI" ptunnel-client ptunnel-ng -p"$S4" -l2222 -r"$S4" -R22 -v 1 \
    -o"$T/log/ptunnel-client.txt"
  local cpid=$LAST_PID
  wait_listen "$CLI" tcp 2222
  # One SSH session through the ICMP tunnel: a command that prints ~60 KB, then a few more.
  cli_ssh -p 2222 root@127.0.0.1 'head -c 45000 /dev/urandom | base64; uname -a; id' \
    >"$T/out/$name.out" 2>"$T/log/$name-ssh.log" &
  local spid=$!
  sleep 2
  ss_snapshot $name
  wait "$spid" || die "$name: ssh through ptunnel failed: $(cat "$T/log/$name-ssh.log")"
  (($(wc -c <"$T/out/$name.out") > 50000)) || die "$name: short output through the tunnel"
  sleep 1
  stop_pid "$cpid"
  cap_stop
  stop_pid "$ppid"
  stop_pid "$SSHD_PID"
  audit_stop $name
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "ICMP tunnel: ptunnel-ng proxy in th-srv, ptunnel-ng client in th-cli listening on 127.0.0.1:2222; an SSH session (key login, a command printing ~60 KB of base64) runs through it. On the wire there is only ICMP echo request/reply between client and proxy: varying sizes, changing high-entropy payloads, replies that differ from their requests (the kernel also answers each request with a plain echo). The proxy's TCP to sshd stays on the relay host's loopback.",
  "made_with": "in th-srv: sshd -p 22 on $S4, ptunnel-ng -r$S4 -R22 (proxy mode); in th-cli: ptunnel-ng -p$S4 -l2222 -r$S4 -R22 and ssh -p 2222 root@127.0.0.1 'head -c 45000 /dev/urandom | base64; uname -a; id'",
  "tunnel": true,
  "expected": { "alerts": [ { "analytic": "AN1484", "detection": "icmp_tunnel", "protocol": "unknown", "server_port": 0 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 0, "transport": "icmp", "protocol": "unknown", "connections": 1, "inner": "ssh via ptunnel-ng" } ] }
EOF
  finalize $name "$OUT/$name.pcap" ssh,sshd,ptunnel-ng
}

sc_icmp_ping() {
  local name=icmp-ping
  cap_start $name
  {
    in_cli ping -n -c 20 -i 0.2 "$S4"
    in_cli ping -n -c 10 -i 0.2 -s 1400 "$S4"
    in_cli ping -n -c 8 -i 0.2 -s 16 -p deadbeef "$S4"
    in_cli ping -n -6 -c 10 -i 0.2 "$S6"
  } >"$T/out/$name.out" 2>"$T/log/$name.log" || die "$name: ping failed: $(cat "$T/log/$name.log")"
  ss_snapshot $name -uanpi
  cap_stop
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Benign ICMP echo: iputils ping, 20 default-size echoes, 10 with -s 1400 (its fill pattern 0x10.. counts through every byte value, so the payload entropy is high), 8 with -s 16 -p deadbeef, and 10 ICMPv6 echoes. Each reply repeats its request byte for byte and every request carries the same pattern apart from the timestamp.",
  "made_with": "in th-cli: ping -c 20 -i 0.2 $S4; ping -c 10 -s 1400 $S4; ping -c 8 -s 16 -p deadbeef $S4; ping -6 -c 10 $S6",
  "tunnel": false,
  "expected": { "alerts": [] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 0, "transport": "icmp", "protocol": "unknown", "connections": 1 },
             { "client": "$C6", "server": "$S6", "server_port": 0, "transport": "ipv6-icmp", "protocol": "unknown", "connections": 1 } ] }
EOF
  finalize $name "$OUT/$name.pcap" kernel
}

sc_socat_relay_3389() {
  local name=socat-relay-3389
  misc_backend_up
  misc_write_rdp
  bg_in "$BAK" rdp-backend timeout 60 python3 "$T/misc-rdp.py" server "$B4" 3389 10
  local bpid=$LAST_PID
  wait_listen "$BAK" tcp 3389
  audit_start $name
  bg_in "$SRV" socat-relay socat TCP-LISTEN:3389,bind=$S4,reuseaddr,fork TCP:$B4:3389
  local rpid=$LAST_PID
  wait_listen "$SRV" tcp 3389
  cap_start $name
  misc_cap2_start $name
  in_cli timeout 40 python3 "$T/misc-rdp.py" client "$S4" 3389 10 >"$T/log/$name-client.log" 2>&1 &
  local cpid=$!
  sleep 3
  ss_snapshot $name
  wait "$cpid" || die "$name: RDP-like client failed: $(cat "$T/log/$name-client.log")"
  sleep 1
  stop_pid "$rpid"
  stop_pid "$bpid"
  misc_cap2_stop $name
  audit_stop $name
  misc_backend_down
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Port relay with socat: the client ($C4) opens an RDP-like session (X.224 connection request/confirm, then ~10 s of random bulk, 1400 B/100 ms from the backend, 300 B/100 ms from the client) to $S4:3389, where socat TCP-LISTEN:3389,fork forwards it to the real backend $B4:3389. Captured on both interfaces of the relay host and merged: the inbound leg and the outbound leg carry the same bytes a few milliseconds apart. netsh portproxy, sshd forwarding and stunnel look the same on the wire.",
  "made_with": "in th-bak ($B4): python3 misc-rdp.py server; in th-srv (relay, $S4 and $R4): socat TCP-LISTEN:3389,bind=$S4,reuseaddr,fork TCP:$B4:3389; in th-cli: python3 misc-rdp.py client $S4 3389; tcpdump on veth-srv and veth-rly merged with mergecap",
  "tunnel": true,
  "expected": { "alerts": [ { "analytic": "AN1484", "detection": "relay", "protocol": "rdp", "server_port": 3389 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 3389, "transport": "tcp", "protocol": "rdp", "connections": 1, "leg": "inbound" },
             { "client": "$R4", "server": "$B4", "server_port": 3389, "transport": "tcp", "protocol": "rdp", "connections": 1, "leg": "outbound" } ] }
EOF
  finalize $name "$OUT/$name.pcap" socat,python3
  misc_note_merge $name
}

sc_stunnel_443() {
  local name=stunnel-443
  misc_backend_up
  mkdir -p "$T/bak-www"
  head -c 150000 /dev/urandom | base64 >"$T/bak-www/report.txt"
  bg_in "$BAK" http-backend timeout 60 python3 -m http.server --bind "$B4" \
    --directory "$T/bak-www" 80
  local bpid=$LAST_PID
  wait_listen "$BAK" tcp 80
  cat >"$T/stunnel-srv.conf" <<EOF
foreground = yes
pid =
[wrap]
accept = $S4:443
connect = $B4:80
cert = $T/tls.crt
key = $T/tls.key
EOF
  cat >"$T/stunnel-cli.conf" <<EOF
foreground = yes
pid =
[wrap]
client = yes
accept = 127.0.0.1:8080
connect = $S4:443
sni = $TLS_NAME
verifyPeer = no
EOF
  audit_start $name
  bg_in "$SRV" stunnel-srv stunnel4 "$T/stunnel-srv.conf"
  local spid=$LAST_PID
  wait_listen "$SRV" tcp 443
  bg_in "$CLI" stunnel-cli stunnel4 "$T/stunnel-cli.conf"
  local cpid=$LAST_PID
  wait_listen "$CLI" tcp 8080
  cap_start $name
  misc_cap2_start $name
  in_cli timeout 30 curl -s -o /dev/null -w '%{http_code} %{size_download}\n' \
    http://127.0.0.1:8080/report.txt >"$T/out/$name.out" 2>"$T/log/$name-curl.log" &
  local upid=$!
  sleep 0.5
  ss_snapshot $name
  wait "$upid" || die "$name: curl through stunnel failed: $(cat "$T/log/$name-curl.log")"
  grep -q '^200 ' "$T/out/$name.out" || die "$name: no 200 through stunnel"
  sleep 1
  stop_pid "$cpid"
  stop_pid "$spid"
  stop_pid "$bpid"
  misc_cap2_stop $name
  audit_stop $name
  misc_backend_down
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "stunnel relay: a cleartext HTTP download wrapped in TLS. curl in th-cli talks plain HTTP to a client-mode stunnel on its own 127.0.0.1:8080, which opens TLS (SNI $TLS_NAME) to the server-mode stunnel on the relay host $S4:443; that one unwraps it and forwards cleartext HTTP to the backend $B4:80 (python http.server, a 200 KB text file). Captured on both relay interfaces: a defender sees an ordinary-looking TLS session on 443 in, and on the other side of the same host a plain HTTP flow out whose bytes and timing track it (the relay). The TLS leg alone is indistinguishable from benign HTTPS.",
  "made_with": "in th-bak: python3 -m http.server --bind $B4 80; in th-srv: stunnel4 (accept $S4:443, connect $B4:80, self-signed cert); in th-cli: stunnel4 (client = yes, accept 127.0.0.1:8080, connect $S4:443) and curl http://127.0.0.1:8080/report.txt; tcpdump on veth-srv and veth-rly merged with mergecap",
  "tunnel": true,
  "expected": { "alerts": [ { "analytic": "AN1484", "detection": "relay", "protocol": "unknown", "server_port": 443 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 443, "transport": "tcp", "protocol": "tls", "sni": "$TLS_NAME", "connections": 1, "leg": "inbound" },
             { "client": "$R4", "server": "$B4", "server_port": 80, "transport": "tcp", "protocol": "http", "connections": 1, "leg": "outbound" } ] }
EOF
  finalize $name "$OUT/$name.pcap" openssl,curl,python3
  misc_note_merge $name
}

sc_https_bulk_443() {
  local name=https-bulk-443
  head -c 800000 /dev/urandom >"$T/www/bulk-a.bin"
  head -c 800000 /dev/urandom >"$T/www/bulk-b.bin"
  head -c 400000 /dev/urandom >"$T/www/bulk-c.bin"
  chmod 644 "$T"/www/bulk-*.bin
  start_nginx https
  cap_start $name
  local url=https://$TLS_NAME res="$TLS_NAME:443:$S4"
  {
    in_cli timeout 30 curl -sk --resolve "$res" --http1.1 -w '%{http_code} %{size_download}\n' \
      -o /dev/null "$url/bulk-a.bin" -o /dev/null "$url/bulk-b.bin"
    sleep 0.3
    in_cli timeout 30 curl -sk --resolve "$res" -w '%{http_code} %{size_download}\n' \
      -o /dev/null "$url/bulk-c.bin"
  } >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 0.5
  ss_snapshot $name
  wait "$cpid" || die "$name: curl failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  stop_pid "$NGINX_PID" QUIT
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Benign bulk HTTPS downloads: nginx (self-signed certificate, SNI $TLS_NAME) serves two 800 KB files on one keep-alive HTTP/1.1 connection and a 400 KB file over HTTP/2. Strongly asymmetric (hundreds of times more bytes down than up) and high-entropy, and still nothing but a download.",
  "made_with": "nginx (listen $S4:443 ssl http2) in th-srv; curl -k --resolve $TLS_NAME:443:$S4 in th-cli",
  "tunnel": false,
  "expected": { "alerts": [] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 443, "transport": "tcp", "protocol": "tls", "sni": "$TLS_NAME", "connections": 2 } ] }
EOF
  finalize $name "$OUT/$name.pcap" nginx,curl,openssl
}
