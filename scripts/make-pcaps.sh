#!/usr/bin/env bash
# make-pcaps.sh - build tunnelhound's reference captures in pcaps/.
#
# Creates two network namespaces (client th-cli, server th-srv) joined by a
# veth pair, runs real programs (sshd/ssh, socat, nginx, openssl, dnsmasq,
# dig, curl) between them and records each scenario with tcpdump on the
# server-side veth.  For every scenario NAME it writes:
#   pcaps/NAME.pcap (or NAME.pcapng)   the capture
#   pcaps/NAME.json                    description + expected verdict
#   pcaps/NAME.endpoint.ss.txt         `ss` snapshot of both namespaces taken
#                                      while the main flow was up
#
# Usage: sudo bash scripts/make-pcaps.sh [SCENARIO ...]   (default: all)
#        bash scripts/make-pcaps.sh --list
# Environment: PCAP_OUT=dir  write captures somewhere else (default pcaps/)
#
# Needs root (namespaces, tcpdump, ports < 1024).  Idempotent: stale
# namespaces from an earlier run are removed first, and everything this
# script starts is stopped again by the EXIT trap.  No traffic leaves the
# machine: every address used lives inside the two namespaces made here.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${PCAP_OUT:-$ROOT/pcaps}

# TH_LAB names the namespaces (TH_LAB-cli, TH_LAB-srv) so that two runs can work side by
# side; the veths live inside the namespaces, so their names never clash.
LAB=${TH_LAB:-th}
CLI=$LAB-cli SRV=$LAB-srv
CIF=veth-cli SIF=veth-srv
CMAC=02:77:00:00:00:01 SMAC=02:77:00:00:00:02
C4=10.77.0.1 S4=10.77.0.2
C6=fd77::1 S6=fd77::2
TLS_NAME=www.tunnelhound.test

ALL_SCENARIOS=(
  ssh-on-443 random-on-80 ssh-22 http-80 https-443 dns-53
  ssh-reverse-443 ssh-local-forward-22 openssl-on-80
)

# More scenarios live in scripts/scenarios/*.sh: each defines sc_<name> functions and appends
# its names to ALL_SCENARIOS, using the helpers below (called only once main runs).
for f in "$ROOT"/scripts/scenarios/*.sh; do
  # shellcheck source=/dev/null
  [[ -e $f ]] && source "$f"
done

log() { printf '[make-pcaps %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ ${1:-} == --list ]]; then printf '%s\n' "${ALL_SCENARIOS[@]}"; exit 0; fi
[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, tcpdump, ports < 1024)"

# ---------------------------------------------------------------- tools
ensure_tools() {
  # command -> Debian package; installs only what is missing.
  local -A pkg=(
    [ip]=iproute2 [tcpdump]=tcpdump [sshd]=openssh-server [ssh]=openssh-client
    [ssh-keygen]=openssh-client [socat]=socat [dig]=bind9-dnsutils
    [dnsmasq]=dnsmasq-base [nginx]=nginx-light [openssl]=openssl
    [curl]=curl [python3]=python3 [ss]=iproute2 [ethtool]=ethtool [auditctl]=auditd
  )
  local missing=() c
  for c in "${!pkg[@]}"; do
    command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null 2>&1 \
      || missing+=("${pkg[$c]}")
  done
  if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing tools: ${missing[*]}"
    log "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null \
      || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
             --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null; } \
      || die "could not install ${missing[*]}"
  fi
}
export PATH=$PATH:/usr/sbin:/sbin
ensure_tools
SSHD_BIN=$(command -v sshd)

# ---------------------------------------------------------------- scenarios to run
SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=("${ALL_SCENARIOS[@]}")
for s in "${SCENARIOS[@]}"; do
  [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || die "unknown scenario '$s' (see --list)"
done

# ---------------------------------------------------------------- cleanup
T=
BG_PIDS=()
cleanup() {
  local rc=$? p ns
  set +e
  [[ -n ${AUDIT_KEY:-} ]] && audit_rules -d
  for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for ns in "$CLI" "$SRV"; do
    if ip netns list | grep -qw "^$ns"; then
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
      ip netns del "$ns" 2>/dev/null
    fi
  done
  if [[ -n $T && -d $T ]]; then if [[ -n ${KEEP_TMP:-} ]]; then log "kept $T"; else rm -rf -- "$T"; fi; fi
  ((rc)) && log "failed (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stop one background process: signal, poll (bounded), then SIGKILL.
stop_pid() { # pid [signal] [tenths-of-seconds]
  local pid=$1 sig=${2:-TERM} n=${3:-50} i
  kill -s "$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < n; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIG$sig, killing"; kill -KILL "$pid" 2>/dev/null || true; }
  wait "$pid" 2>/dev/null || true
}

# Wait (bounded) until a process in namespace $1 listens on port $3/$2.
wait_listen() { # ns tcp|udp port [tenths]
  local ns=$1 proto=$2 port=$3 n=${4:-100} i flag=-Htln
  [[ $proto == udp ]] && flag=-Huln
  for ((i = 0; i < n; i++)); do
    [[ -n $(ip netns exec "$ns" ss $flag "sport = :$port") ]] && return 0
    sleep 0.1
  done
  die "nothing listening on $proto/$port in $ns"
}

# Run a command in the background in a namespace; prints nothing, sets LAST_PID.
bg_in() { # ns logname cmd...
  local ns=$1 name=$2; shift 2
  ip netns exec "$ns" "$@" >"$T/log/$name.log" 2>&1 &
  LAST_PID=$!
  BG_PIDS+=("$LAST_PID")
}

in_cli() { ip netns exec "$CLI" "$@"; }
in_srv() { ip netns exec "$SRV" "$@"; }

# ---------------------------------------------------------------- capture
CAP_PID= CAP_FILE= CAP_NAME= CAP_PRECISION=micro
cap_start() { # name [nano]
  local name=$1
  CAP_NAME=$name
  CAP_PRECISION=${2:-micro}
  rm -f "$OUT/$name.pcap" "$OUT/$name.pcapng" "$OUT/$name.json" "$OUT/$name.endpoint.ss.txt"
  CAP_FILE="$OUT/$name.pcap"
  local extra=()
  if [[ $CAP_PRECISION == nano ]]; then
    extra=(--time-stamp-precision nano)
    CAP_FILE="$T/$name.nano.pcap"
  fi
  : >"$T/log/tcpdump-$name.log"
  ip netns exec "$SRV" tcpdump -i "$SIF" -s 0 -U --immediate-mode -nn -Z root "${extra[@]}" -w "$CAP_FILE" \
    2>"$T/log/tcpdump-$name.log" &
  CAP_PID=$!
  BG_PIDS+=("$CAP_PID")
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q 'listening on' "$T/log/tcpdump-$name.log" && break
    kill -0 "$CAP_PID" 2>/dev/null || die "tcpdump died: $(cat "$T/log/tcpdump-$name.log")"
    sleep 0.1
  done
  grep -q 'listening on' "$T/log/tcpdump-$name.log" || die "tcpdump did not start"
  sleep 0.3
  log "capturing $name"
}
cap_stop() {
  sleep 1.2 # let the last FIN/ACKs through
  stop_pid "$CAP_PID" INT 50
  local lf=$T/log/tcpdump-$CAP_NAME.log captured received dropped
  captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$lf")
  received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$lf")
  dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$lf")
  [[ -n $captured && $captured == "$received" && ${dropped:-0} == 0 ]] ||
    die "tcpdump for $CAP_NAME: captured=${captured:-?} received=${received:-?} dropped=${dropped:-?}"
}

ss_snapshot() { # name [ss flags]
  local name=$1 flags=${2:--tanpi} ns addrs
  {
    echo "# endpoint view for capture '$name', taken $(date -u +%Y-%m-%dT%H:%M:%SZ) while its main flow was up"
    echo "# command: ip netns exec <namespace> ss $flags   (pids differ from run to run)"
    for ns in "$CLI" "$SRV"; do
      if [[ $ns == "$CLI" ]]; then addrs="client $C4 $C6"; else addrs="server $S4 $S6"; fi
      echo
      echo "## namespace $ns ($addrs)"
      ip netns exec "$ns" ss $flags 2>&1 | sed 's/[[:space:]]*$//' || true
    done
  } >"$OUT/$name.endpoint.ss.txt"
}

# Record the scenario's processes with the kernel's audit subsystem (auditd): connect,
# accept, bind, listen and execve, tagged with a key of this run, so the capture comes with
# the endpoint records a Linux agent would have shipped. auditd is shared by every lab run
# on the machine: only our own rules are added and removed, never `auditctl -D`.
AUDIT_KEY= AUDIT_SINCE=
# Socket calls whatever their result (a non-blocking connect "fails" with EINPROGRESS while
# its SYN is on the wire); execve only when it worked: a PATH search (timeout, env) fails
# once per directory and would double the log with events no agent acts on.
audit_rules() { # -a | -d
  auditctl "$1" always,exit -F arch=b64 -S connect,accept,accept4,bind,listen \
    -F key="$AUDIT_KEY" >/dev/null 2>&1 || [[ $1 == -d ]]
  auditctl "$1" always,exit -F arch=b64 -S execve -F success=1 \
    -F key="$AUDIT_KEY" >/dev/null 2>&1 || [[ $1 == -d ]]
}
audit_start() { # name
  # Unique per run: audit_stop reads rotated logs too, which may hold an earlier run's
  # records of the same scenario. auditctl keys are at most 31 characters.
  local key="th-$LAB-$1"
  AUDIT_KEY="${key:0:24}-$(($$ % 100000))"
  AUDIT_SINCE=$(date +%s)
  command -v auditctl >/dev/null || die "auditd is not installed (apt-get install auditd)"
  if [[ $(auditctl -s | awk '$1 == "pid" {print $2}') == 0 ]]; then
    auditd || die "auditd did not start"
    sleep 0.5
  fi
  auditctl -e 1 >/dev/null
  audit_rules -a || die "auditctl could not add the rules of $AUDIT_KEY"
}
audit_stop() { # name: writes $OUT/name.audit.log
  [[ -n $AUDIT_KEY ]] || return 0
  audit_rules -d
  sleep 0.5 # auditd writes asynchronously
  # auditd rotates its log (8 MB by default; about a minute when several labs run), so a
  # scenario's records may start in a rotated file: read those first, oldest first.
  local logs
  logs=$(ls /var/log/audit/audit.log.* 2>/dev/null | sort -t. -k3 -rn)
  # shellcheck disable=SC2086  # the rotated file names hold no spaces
  AUDIT_SINCE=$AUDIT_SINCE python3 "$ROOT/scripts/audit-extract.py" \
    <(cat $logs /var/log/audit/audit.log) "$AUDIT_KEY" "$CLI" "$SRV" >"$OUT/$1.audit.log"
  log "audit: $(grep -c '^type=SYSCALL' "$OUT/$1.audit.log") syscall events in $1.audit.log"
  AUDIT_KEY=
}

# ---------------------------------------------------------------- tool versions
tool_versions() {
  local f=$T/tools.env
  {
    printf 'ssh=%s\n' "$(ssh -V 2>&1 | head -n1)"
    printf 'sshd=openssh-server %s\n' "$(dpkg-query -W -f='${Version}' openssh-server 2>/dev/null || echo '?')"
    printf 'socat=%s\n' "$(socat -V 2>/dev/null | grep -m1 '^socat version' || echo '?')"
    printf 'tcpdump=%s\n' "$(tcpdump --version 2>&1 | head -n1)"
    printf 'libpcap=%s\n' "$(tcpdump --version 2>&1 | sed -n 2p)"
    printf 'openssl=%s\n' "$(openssl version)"
    printf 'nginx=%s\n' "$(nginx -v 2>&1 | head -n1)"
    printf 'dnsmasq=%s\n' "$(dnsmasq --version | head -n1 | sed 's/  Copyright.*//')"
    printf 'dig=%s\n' "$(dig -v 2>&1 | head -n1)"
    printf 'curl=%s\n' "$(curl --version | head -n1 | cut -d' ' -f1-3)"
    printf 'python3=%s\n' "$(python3 --version 2>&1)"
    printf 'kernel=Linux %s\n' "$(uname -r)"
    if command -v editcap >/dev/null; then printf 'editcap=%s\n' "$(editcap -V 2>&1 | head -n1)"; fi
  } >"$f"
}

# ---------------------------------------------------------------- metadata writer
write_helpers() {
  cat >"$T/finalize.py" <<'PY'
"""Merge hand-written scenario metadata with facts measured from the capture."""
import json, struct, sys, ipaddress, os

def packets(path):
    data = open(path, 'rb').read()
    magic = data[:4]
    pcap_magics = {b'\xd4\xc3\xb2\xa1': ('<', 1e6), b'\x4d\x3c\xb2\xa1': ('<', 1e9),
                   b'\xa1\xb2\xc3\xd4': ('>', 1e6), b'\xa1\xb2\x3c\x4d': ('>', 1e9)}
    if magic in pcap_magics:
        e, div = pcap_magics[magic]
        linktype = struct.unpack(e + 'I', data[20:24])[0] & 0xFFFF
        off = 24
        while off + 16 <= len(data):
            sec, frac, incl, _orig = struct.unpack(e + 'IIII', data[off:off + 16])
            off += 16
            yield sec + frac / div, data[off:off + incl], linktype
            off += incl
        return
    if magic != b'\x0a\x0d\x0d\x0a':
        raise SystemExit('unknown capture format: ' + path)
    off, e, ifaces = 0, '<', []
    while off + 12 <= len(data):
        if data[off:off + 4] == b'\x0a\x0d\x0d\x0a':
            e = '<' if data[off + 8:off + 12] == b'\x4d\x3c\x2b\x1a' else '>'
            ifaces = []
        btype, blen = struct.unpack(e + 'II', data[off:off + 8])
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            linktype = struct.unpack(e + 'H', body[:2])[0]
            res = 1e6
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack(e + 'HH', body[o:o + 4])
                if code == 0:
                    break
                if code == 9:
                    v = body[o + 4]
                    res = float(2 ** (v & 0x7F)) if v & 0x80 else float(10 ** v)
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((linktype, res))
        elif btype == 6:
            iid, hi, lo, caplen, _orig = struct.unpack(e + 'IIIII', body[:20])
            lt, res = ifaces[iid]
            yield ((hi << 32) | lo) / res, body[20:20 + caplen], lt
        off += blen

def decode(frame, linktype):
    if linktype != 1:
        return None
    et, o = struct.unpack('!H', frame[12:14])[0], 14
    while et in (0x8100, 0x88A8):
        et, o = struct.unpack('!H', frame[o + 2:o + 4])[0], o + 4
    if et == 0x0800:
        ihl = (frame[o] & 0xF) * 4
        tot = struct.unpack('!H', frame[o + 2:o + 4])[0]
        proto = frame[o + 9]
        src, dst = str(ipaddress.ip_address(frame[o + 12:o + 16])), str(ipaddress.ip_address(frame[o + 16:o + 20]))
        l4, l4len, iplen = o + ihl, tot - ihl, tot
    elif et == 0x86DD:
        plen = struct.unpack('!H', frame[o + 4:o + 6])[0]
        proto = frame[o + 6]
        src, dst = str(ipaddress.ip_address(frame[o + 8:o + 24])), str(ipaddress.ip_address(frame[o + 24:o + 40]))
        l4, l4len, iplen = o + 40, plen, plen + 40
    else:
        return ('non-ip', et)
    if proto == 6:
        sp, dp = struct.unpack('!HH', frame[l4:l4 + 4])
        doff = (frame[l4 + 12] >> 4) * 4
        flags = frame[l4 + 13]
        return ('tcp', src, sp, dst, dp, l4len - doff, iplen, flags)
    if proto == 17:
        sp, dp, ulen = struct.unpack('!HHH', frame[l4:l4 + 6])
        return ('udp', src, sp, dst, dp, ulen - 8, iplen, 0)
    return ('other-ip', proto)

def observe(path):
    flows, order = {}, []
    n = non_ip = other = 0
    first = last = None
    for ts, frame, lt in packets(path):
        n += 1
        first = ts if first is None else first
        last = ts
        d = decode(frame, lt)
        if d is None or d[0] == 'non-ip':
            non_ip += 1
            continue
        if d[0] == 'other-ip':
            other += 1
            continue
        tr, src, sp, dst, dp, payload, iplen, flags = d
        key = (tr,) + tuple(sorted([(src, sp), (dst, dp)]))
        f = flows.get(key)
        if f is None:
            syn_only = tr == 'tcp' and flags & 0x02 and not flags & 0x10
            synack = tr == 'tcp' and flags & 0x12 == 0x12
            if syn_only:
                cli, srv = (src, sp), (dst, dp)
            elif synack:
                cli, srv = (dst, dp), (src, sp)
            elif dp < sp:
                cli, srv = (src, sp), (dst, dp)
            else:
                cli, srv = (dst, dp), (src, sp)
            f = flows[key] = dict(transport=tr, client=cli[0], client_port=cli[1], server=srv[0],
                                  server_port=srv[1], first=ts, last=ts, packets_c2s=0, packets_s2c=0,
                                  payload_bytes_c2s=0, payload_bytes_s2c=0, ip_bytes_c2s=0, ip_bytes_s2c=0,
                                  saw_syn=bool(syn_only))
            order.append(key)
        f['last'] = ts
        dirn = 'c2s' if (src, sp) == (f['client'], f['client_port']) else 's2c'
        f['packets_' + dirn] += 1
        f['payload_bytes_' + dirn] += max(payload, 0)
        f['ip_bytes_' + dirn] += iplen
    out = []
    for key in order:
        f = flows[key]
        f['duration_s'] = round(f['last'] - f['first'], 6)
        del f['first'], f['last']
        out.append(f)
    return dict(packets=n, non_ip_packets=non_ip, other_ip_packets=other,
                duration_s=round((last - first) if n else 0.0, 6), flow_count=len(out), flows=out[:40])

def main():
    meta_path, cap_path, out_path, tools_path, tool_keys, iface, precision = sys.argv[1:8]
    meta = json.load(open(meta_path))
    tools = {}
    for line in open(tools_path):
        k, _, v = line.rstrip('\n').partition('=')
        tools[k] = v
    fmt = 'pcapng' if cap_path.endswith('.pcapng') else 'pcap'
    doc = {k: meta[k] for k in ('name', 'description', 'made_with', 'tunnel', 'expected', 'flows')}
    for k in meta:
        if k not in doc:
            doc[k] = meta[k]
    doc['file'] = os.path.basename(cap_path)
    doc['capture'] = dict(format=fmt, linktype='EN10MB', snaplen=0, interface=iface + ' (server side of the veth pair, in th-srv)',
                          timestamp_precision=precision, size_bytes=os.path.getsize(cap_path))
    doc['tools'] = {k: tools[k] for k in tool_keys.split(',') if k in tools}
    doc['observed'] = observe(cap_path)
    with open(out_path, 'w') as fh:
        json.dump(doc, fh, indent=2)
        fh.write('\n')

if __name__ == '__main__':
    main()
PY

  # pcap (nanosecond) -> pcapng, used when editcap is not installed.
  cat >"$T/topcapng.py" <<'PY'
import struct, sys
src, dst = sys.argv[1:3]
data = open(src, 'rb').read()
magics = {b'\xd4\xc3\xb2\xa1': ('<', 6), b'\x4d\x3c\xb2\xa1': ('<', 9),
          b'\xa1\xb2\xc3\xd4': ('>', 6), b'\xa1\xb2\x3c\x4d': ('>', 9)}
e, res = magics[data[:4]]
snap, linktype = struct.unpack(e + 'II', data[16:24])
def block(btype, body):
    body += b'\0' * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack('<II', btype, n) + body + struct.pack('<I', n)
def opt(code, val):
    return struct.pack('<HH', code, len(val)) + val + b'\0' * (-len(val) % 4)
out = [block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) +
             opt(4, b'tunnelhound make-pcaps.sh') + opt(0, b'')),
       block(1, struct.pack('<HHI', linktype & 0xFFFF, 0, snap) + opt(2, b'veth-srv') +
             opt(9, bytes([res])) + opt(0, b''))]
off = 24
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
    ts = sec * 10 ** res + frac
    out.append(block(6, struct.pack('<IIIII', 0, ts >> 32, ts & 0xFFFFFFFF, incl, orig) +
                     data[off + 16:off + 16 + incl]))
    off += 16 + incl
open(dst, 'wb').write(b''.join(out))
PY

  # Fake RDP endpoints used inside the reverse SSH tunnel.
  cat >"$T/fakerdp.py" <<'PY'
"""Minimal RDP look-alike: X.224 connection request/confirm then random bulk both ways."""
import os, select, socket, sys, time
mode, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
CR = bytes.fromhex('030000130ee000000000000100080003000000')  # TPKT + X.224 CR + RDP_NEG_REQ(TLS|CredSSP)
CC = bytes.fromhex('030000130ed000001234000201080002000000')  # TPKT + X.224 CC + RDP_NEG_RSP(CredSSP)
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
    ls.bind(('127.0.0.1', port))
    ls.listen(1)
    ls.settimeout(60)
    s, _ = ls.accept()
    s.settimeout(10)
    s.recv(64)
    s.sendall(CC)
    pump(s, 1400, 0.1)
else:
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    s.sendall(CR)
    s.recv(64)
    pump(s, 300, 0.1)
    s.close()
PY
}

finalize() { # name capture-file tool-keys
  local name=$1 cap=$2 keys=$3
  python3 "$T/finalize.py" "$T/meta-$name.json" "$cap" "$OUT/$name.json" "$T/tools.env" \
    "$keys,tcpdump,libpcap,kernel" "$SIF" "$CAP_PRECISION"
  local pk
  pk=$(tcpdump -nn -r "$cap" 2>/dev/null | wc -l)
  log "wrote $(basename "$cap") ($(stat -c %s "$cap") bytes, $pk packets) and $name.json"
}

# ---------------------------------------------------------------- lab setup
setup_lab() {
  local ns
  for ns in "$CLI" "$SRV"; do
    if ip netns list | grep -qw "^$ns"; then
      log "removing stale namespace $ns"
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
      ip netns del "$ns"
    fi
  done
  ip link del "$CIF" 2>/dev/null || true
  ip link del "$SIF" 2>/dev/null || true

  ip netns add "$CLI"
  ip netns add "$SRV"
  ip link add "$CIF" netns "$CLI" address "$CMAC" type veth peer name "$SIF" netns "$SRV" address "$SMAC"
  for ns in "$CLI" "$SRV"; do
    local ifc=$CIF
    [[ $ns == "$SRV" ]] && ifc=$SIF
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.router_solicitations=0" \
      "net.ipv6.conf.$ifc.accept_dad=0" "net.ipv6.conf.$ifc.dad_transmits=0"
    # Checksum/segmentation offload would make the sender-side capture show
    # "bad" checksums and >MTU super-segments; turn it off so the pcaps look
    # like a wire capture.
    if command -v ethtool >/dev/null; then
      ip netns exec "$ns" ethtool -K "$ifc" tx off rx off tso off gso off gro off >/dev/null 2>&1 \
        || log "ethtool -K $ifc: some offloads could not be changed"
    else
      log "ethtool missing: captures may show bad TCP checksums (tx offload)"
    fi
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip link set "$ifc" up
  done
  in_cli ip addr add "$C4/24" dev "$CIF"
  in_srv ip addr add "$S4/24" dev "$SIF"
  in_cli ip -6 addr add "$C6/64" dev "$CIF" nodad
  in_srv ip -6 addr add "$S6/64" dev "$SIF" nodad
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -z $(in_cli ip -6 addr show tentative) && -z $(in_srv ip -6 addr show tentative) ]] && break
    sleep 0.1
  done
  sleep 1 # let link-up chatter (MLD reports) happen before the first capture
}

# ---------------------------------------------------------------- material
make_material() {
  mkdir -p "$T/log" "$T/out" "$T/www" "$T/nginx/tmp"
  chmod 755 "$T" "$T/www"
  # ssh keys
  ssh-keygen -q -t ed25519 -N '' -C th-host-ed25519 -f "$T/ssh_host_ed25519_key"
  ssh-keygen -q -t ecdsa -b 256 -N '' -C th-host-ecdsa -f "$T/ssh_host_ecdsa_key"
  ssh-keygen -q -t ed25519 -N '' -C th-client -f "$T/client_key"
  cp "$T/client_key.pub" "$T/authorized_keys"
  cat >"$T/sshd_config" <<EOF
ListenAddress $S4
HostKey $T/ssh_host_ed25519_key
HostKey $T/ssh_host_ecdsa_key
AuthorizedKeysFile $T/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
AllowTcpForwarding yes
GatewayPorts no
X11Forwarding no
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
  mkdir -p /run/sshd # privilege separation directory sshd insists on
  "$SSHD_BIN" -t -f "$T/sshd_config" || die "sshd config invalid"

  # TLS certificate
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=$TLS_NAME/O=tunnelhound lab" -addext "subjectAltName=DNS:$TLS_NAME,IP:$S4" \
    -keyout "$T/tls.key" -out "$T/tls.crt" 2>/dev/null
  chmod 600 "$T/tls.key"

  # web content
  cat >"$T/www/index.html" <<'EOF'
<!doctype html>
<html><head><title>tunnelhound lab</title><link rel="stylesheet" href="/style.css"></head>
<body><h1>tunnelhound lab web server</h1>
<p>This page is served inside a network namespace to produce benign HTTP traffic.</p>
<ul><li><a href="/about.html">about</a></li><li><a href="/notes.txt">notes</a></li><li><a href="/data.json">data</a></li></ul>
</body></html>
EOF
  cat >"$T/www/about.html" <<'EOF'
<!doctype html>
<html><head><title>about</title></head><body><p>Nothing to see here: ordinary, low-entropy markup.</p></body></html>
EOF
  printf 'body { font-family: sans-serif; margin: 2em; }\nh1 { color: #335; }\n' >"$T/www/style.css"
  for i in $(seq 1 120); do printf 'line %03d: the quick brown fox jumps over the lazy dog\n' "$i"; done >"$T/www/notes.txt"
  printf '{"service":"lab","items":[1,2,3,5,8,13,21],"ok":true}\n' >"$T/www/data.json"
  head -c 14336 /dev/urandom >"$T/www/chunk-14k.bin"
  head -c 75000 /dev/urandom | base64 >"$T/www/blob-100k.b64"
  chmod 644 "$T"/www/*

  tool_versions
  write_helpers
  ssh_opts
}

# ---------------------------------------------------------------- servers
SSHD_PID=
start_sshd() { # port
  bg_in "$SRV" "sshd-$1" "$SSHD_BIN" -D -e -f "$T/sshd_config" -p "$1" -o "PidFile=$T/sshd-$1.pid"
  SSHD_PID=$LAST_PID
  wait_listen "$SRV" tcp "$1"
}

SSH_OPTS=()
ssh_opts() {
  SSH_OPTS=(-F /dev/null -i "$T/client_key" -o IdentitiesOnly=yes -o BatchMode=yes
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5)
}
cli_ssh() { # ssh args...   (foreground, bounded)
  in_cli timeout 120 ssh "${SSH_OPTS[@]}" "$@"
}
cli_ssh_bg() { # logname ssh args...   (background; LAST_PID is the ssh process itself)
  local name=$1; shift
  bg_in "$CLI" "$name" ssh "${SSH_OPTS[@]}" "$@"
}

# Stop whatever is still running in the namespaces (all of it was started by
# this script), so nothing from one scenario leaks into the next capture.
reset_namespaces() {
  local ns p i left
  for ns in "$CLI" "$SRV"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
  done
  for ((i = 0; i < 50; i++)); do
    left=$(ip netns pids "$CLI" 2>/dev/null; ip netns pids "$SRV" 2>/dev/null)
    [[ -z $left ]] && break
    sleep 0.1
  done
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${BG_PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null || wait "$p" 2>/dev/null || true
  done
  sleep 0.3
}

NGINX_PID=
start_nginx() { # mode: http | https | chunk
  local conf=$T/nginx-$1.conf user=root
  id www-data >/dev/null 2>&1 && user=www-data
  local servers
  case $1 in
    http | chunk)
      servers="server { listen $S4:80; listen [$S6]:80; server_name _; root $T/www; }" ;;
    https)
      servers="server { listen $S4:443 ssl http2; server_name $TLS_NAME; root $T/www;
        ssl_certificate $T/tls.crt; ssl_certificate_key $T/tls.key;
        ssl_protocols TLSv1.2 TLSv1.3; }" ;;
  esac
  cat >"$conf" <<EOF
daemon off;
user $user;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/log/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log $T/log/nginx-access.log;
  client_body_temp_path $T/nginx/tmp/body;
  proxy_temp_path $T/nginx/tmp/proxy;
  fastcgi_temp_path $T/nginx/tmp/fastcgi;
  uwsgi_temp_path $T/nginx/tmp/uwsgi;
  scgi_temp_path $T/nginx/tmp/scgi;
  types { text/html html; text/plain txt; text/css css; application/json json; application/octet-stream bin; text/plain b64; }
  default_type application/octet-stream;
  keepalive_timeout 30;
  server_tokens on;
  $servers
}
EOF
  bg_in "$SRV" "nginx-$1" nginx -p "$T/nginx" -e "$T/log/nginx-error.log" -c "$conf"
  NGINX_PID=$LAST_PID
  if [[ $1 == https ]]; then wait_listen "$SRV" tcp 443; else wait_listen "$SRV" tcp 80; fi
}

# ---------------------------------------------------------------- scenarios
sc_ssh_on_443() {
  local name=ssh-on-443
  start_sshd 443
  cap_start $name
  cli_ssh -p 443 "root@$S4" "hostname; id; uname -srm; sleep 1; ls -la /etc/ssh | head -n 12; df -h / | tail -n 1; sleep 1; cat $T/www/blob-100k.b64; sleep 1; echo transfer-done" \
    >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 1.5
  ss_snapshot $name
  wait "$cpid" || die "$name: ssh client failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  stop_pid "$SSHD_PID"
  grep -q transfer-done "$T/out/$name.out" || die "$name: transfer incomplete"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "OpenSSH on TCP 443 (the HTTPS port). The client logs in with a key, runs a few commands (hostname, id, uname, ls, df) and downloads ~100 KB (base64 of random bytes) in the same session. Classic T1572 / port-masquerading SSH.",
  "made_with": "sshd -D -p 443 (own sshd_config, ed25519+ecdsa host keys from ssh-keygen, key-only auth) in th-srv; in th-cli: ssh -p 443 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@$S4 'hostname; id; ...; cat blob-100k.b64'",
  "tunnel": true,
  "expected": { "alerts": [ { "rule_hint": "protocol-port-mismatch", "protocol": "ssh", "server_port": 443 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 443, "transport": "tcp", "protocol": "ssh", "connections": 1 } ] }
EOF
  finalize $name "$OUT/$name.pcap" ssh,sshd
}

sc_random_on_80() {
  local name=random-on-80
  bg_in "$SRV" "socat-$name" socat -T 30 TCP-LISTEN:80,bind=$S4,reuseaddr \
    SYSTEM:'head -c 32768 /dev/urandom; cat >/dev/null'
  local spid=$LAST_PID
  wait_listen "$SRV" tcp 80
  cap_start $name
  # ~200 KB of /dev/urandom, 4 KB every 50 ms, so the flow lasts ~2.5 s.
  { for i in $(seq 1 50); do head -c 4096 /dev/urandom; sleep 0.05; done; } |
    in_cli timeout 60 socat -t 5 - TCP:$S4:80 >"$T/out/$name.in" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 1
  ss_snapshot $name
  wait "$cpid" || die "$name: client failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  stop_pid "$spid"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Raw random bytes on TCP 80: the client uploads 200 KB read from /dev/urandom (4 KB every 50 ms) and the server answers with 32 KB of random bytes. No HTTP at all, just high-entropy payload on a cleartext port, as an encrypted custom tunnel would look.",
  "made_with": "in th-srv: socat TCP-LISTEN:80 SYSTEM:'head -c 32768 /dev/urandom; cat >/dev/null'; in th-cli: (50 x head -c 4096 /dev/urandom; sleep 0.05) | socat -t 5 - TCP:$S4:80",
  "tunnel": true,
  "expected": { "alerts": [ { "rule_hint": "high-entropy-cleartext-port", "protocol": "unknown", "server_port": 80 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 80, "transport": "tcp", "protocol": "unknown", "connections": 1 } ] }
EOF
  finalize $name "$OUT/$name.pcap" socat
}

type_slowly() { # text: one keystroke at a time, like a person at a terminal
  local s=$1 i
  for ((i = 0; i < ${#s}; i++)); do printf '%s' "${s:i:1}"; sleep 0.09; done
  printf '\r'
}

sc_ssh_22() {
  local name=ssh-22
  start_sshd 22
  cap_start $name
  {
    sleep 1.2
    type_slowly 'uptime'; sleep 0.8
    type_slowly 'ls /'; sleep 0.8
    type_slowly 'whoami'; sleep 0.8
    type_slowly 'exit'; sleep 1
  } | cli_ssh -tt -p 22 "root@$S4" >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 2
  ss_snapshot $name
  wait "$cpid" || die "$name: ssh failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  stop_pid "$SSHD_PID"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Benign interactive SSH on its own port 22: key login with a pty, three short commands typed one keystroke at a time (uptime, ls /, whoami), then exit. Small, short, symmetric-ish traffic.",
  "made_with": "sshd -D -p 22 (own sshd_config and keys) in th-srv; in th-cli: keystrokes piped with 90 ms gaps into ssh -tt -p 22 root@$S4",
  "tunnel": false,
  "expected": { "alerts": [] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 22, "transport": "tcp", "protocol": "ssh", "connections": 1 } ] }
EOF
  finalize $name "$OUT/$name.pcap" ssh,sshd
}

sc_http_80() {
  local name=http-80
  start_nginx http
  cap_start $name
  local base=http://$S4
  {
    in_cli timeout 20 curl -s -o /dev/null "$base/"
    sleep 0.3
    # one keep-alive session: five requests on one connection, 2 per second
    in_cli timeout 20 curl -s --rate 2/s -w '%{http_code} %{num_connects}\n' \
      -o /dev/null "$base/index.html" -o /dev/null "$base/style.css" -o /dev/null "$base/about.html" \
      -o /dev/null "$base/notes.txt" -o /dev/null "$base/data.json"
    sleep 0.3
    in_cli timeout 20 curl -s -I "$base/notes.txt"
    in_cli timeout 20 curl -s -o /dev/null -w '%{http_code}\n' "$base/missing.html"
    in_cli timeout 20 curl -s -g -o /dev/null -w '%{http_code}\n' "http://[$S6]/notes.txt"
    in_cli timeout 20 curl -s -A 'Mozilla/5.0 (X11; Linux x86_64)' -H 'Accept-Encoding: gzip' \
      -o /dev/null "$base/notes.txt"
  } >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 1.3
  ss_snapshot $name
  wait "$cpid" || die "$name: curl failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  stop_pid "$NGINX_PID" QUIT
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Benign plain HTTP/1.1 on port 80 from nginx serving small text/HTML/CSS/JSON files: a single GET, a keep-alive session with five requests on one connection, a HEAD, a 404, one request over IPv6 and one with a browser User-Agent.",
  "made_with": "nginx -c own.conf (daemon off) in th-srv listening on $S4:80 and [$S6]:80; curl in th-cli (one invocation with --rate 2/s and five URLs for the keep-alive session)",
  "tunnel": false,
  "expected": { "alerts": [] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 80, "transport": "tcp", "protocol": "http", "connections": 5 },
             { "client": "$C6", "server": "$S6", "server_port": 80, "transport": "tcp", "protocol": "http", "connections": 1 } ] }
EOF
  finalize $name "$OUT/$name.pcap" nginx,curl
}

convert_pcapng() { # nano-pcap out.pcapng
  if command -v editcap >/dev/null; then
    editcap -F pcapng "$1" "$2"
  else
    python3 "$T/topcapng.py" "$1" "$2"
  fi
}

sc_https_443() {
  local name=https-443
  start_nginx https
  cap_start $name nano
  local url=https://$TLS_NAME res="$TLS_NAME:443:$S4"
  {
    in_cli timeout 20 curl -sk --resolve "$res" -o /dev/null -w '%{http_code} %{http_version}\n' "$url/"
    sleep 0.3
    in_cli timeout 20 curl -sk --resolve "$res" --http1.1 --rate 2/s -w '%{http_code} %{http_version}\n' \
      -o /dev/null "$url/index.html" -o /dev/null "$url/style.css" -o /dev/null "$url/about.html" \
      -o /dev/null "$url/notes.txt"
    sleep 0.3
    in_cli timeout 20 curl -sk --resolve "$res" -o /dev/null -w '%{http_code} %{http_version}\n' "$url/data.json"
    in_cli timeout 20 curl -sk --resolve "$res" --tlsv1.2 --tls-max 1.2 --http1.1 -o /dev/null \
      -w '%{http_code} %{http_version}\n' "$url/notes.txt"
  } >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 1.3
  ss_snapshot $name
  wait "$cpid" || die "$name: curl failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  stop_pid "$NGINX_PID" QUIT
  convert_pcapng "$CAP_FILE" "$OUT/$name.pcapng"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Benign HTTPS on 443: nginx with a self-signed ECDSA certificate for $TLS_NAME; curl -k with SNI $TLS_NAME fetches pages four times (HTTP/2 over TLS 1.3, a keep-alive HTTP/1.1 session with four requests, and one TLS 1.2 connection). Written as pcapng with nanosecond timestamps.",
  "made_with": "nginx (listen $S4:443 ssl http2, own config, openssl req -x509 certificate) in th-srv; curl -k --resolve $TLS_NAME:443:$S4 in th-cli; tcpdump --time-stamp-precision nano, converted with editcap -F pcapng (or a built-in converter when editcap is missing)",
  "tunnel": false,
  "expected": { "alerts": [] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 443, "transport": "tcp", "protocol": "tls", "sni": "$TLS_NAME", "connections": 4 } ] }
EOF
  finalize $name "$OUT/$name.pcapng" nginx,curl,openssl,editcap
}

sc_dns_53() {
  local name=dns-53
  cat >"$T/dnsmasq.conf" <<EOF
port=53
listen-address=$S4
listen-address=$S6
bind-interfaces
no-resolv
no-hosts
pid-file=$T/dnsmasq.pid
log-queries
address=/example.test/10.77.0.9
address=/example.test/fd77::9
local=/lab.test/
host-record=www.lab.test,10.77.0.20,fd77::20
host-record=mail.lab.test,10.77.0.25
mx-host=lab.test,mail.lab.test,10
txt-record=lab.test,"v=spf1 mx -all"
srv-host=_ldap._tcp.lab.test,dc1.lab.test,389
cname=intranet.lab.test,www.lab.test
EOF
  bg_in "$SRV" dnsmasq dnsmasq -k -C "$T/dnsmasq.conf" --log-facility="$T/log/dnsmasq-queries.log"
  local dpid=$LAST_PID
  wait_listen "$SRV" udp 53
  wait_listen "$SRV" tcp 53
  cap_start $name nano
  local d="dig +tries=1 +time=2"
  {
    in_cli $d @$S4 www.example.test A
    sleep 0.3; in_cli $d @$S4 api.example.test AAAA
    sleep 0.3; in_cli $d @$S4 lab.test MX
    sleep 0.3; in_cli $d @$S4 lab.test TXT
    sleep 0.3; in_cli $d @$S4 _ldap._tcp.lab.test SRV
    sleep 0.3; in_cli $d @$S4 intranet.lab.test A
    sleep 0.3; in_cli $d @$S4 nothere.lab.test A
    sleep 0.3; in_cli $d @$S4 -x 10.77.0.20
    sleep 0.3; in_cli $d +tcp @$S4 www.lab.test A
    sleep 0.3; in_cli $d @$S6 www.lab.test AAAA
    sleep 0.3; in_cli $d @$S6 mail.lab.test A
  } >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 1
  ss_snapshot $name -tuanpi
  wait "$cpid" || die "$name: dig failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  stop_pid "$dpid"
  cp "$CAP_FILE" "$OUT/$name.pcap"
  grep -q 'status: NXDOMAIN' "$T/out/$name.out" || die "$name: expected one NXDOMAIN answer"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Benign DNS: dnsmasq authoritative for a few local names; dig asks 11 ordinary questions (A, AAAA, MX, TXT, SRV, CNAME, PTR, one NXDOMAIN) over UDP/IPv4, one over TCP/53 and two over UDP/IPv6. Classic pcap with nanosecond timestamps.",
  "made_with": "dnsmasq -k -C own.conf (no-resolv, listen on $S4 and $S6 port 53, address=/example.test/10.77.0.9, host-record/mx/txt/srv/cname for lab.test) in th-srv; dig @$S4 / dig +tcp / dig @$S6 in th-cli; tcpdump --time-stamp-precision nano",
  "tunnel": false,
  "expected": { "alerts": [] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 53, "transport": "udp", "protocol": "dns", "connections": 8 },
             { "client": "$C4", "server": "$S4", "server_port": 53, "transport": "tcp", "protocol": "dns", "connections": 1 },
             { "client": "$C6", "server": "$S6", "server_port": 53, "transport": "udp", "protocol": "dns", "connections": 2 } ] }
EOF
  finalize $name "$OUT/$name.pcap" dnsmasq,dig
}

sc_ssh_reverse_443() {
  local name=ssh-reverse-443
  audit_start $name
  start_sshd 443
  bg_in "$CLI" fakerdp-server python3 "$T/fakerdp.py" server 3389 16
  local rpid=$LAST_PID
  wait_listen "$CLI" tcp 3389
  cap_start $name
  cli_ssh_bg "$name-client" -N -p 443 -o ExitOnForwardFailure=yes -o ServerAliveInterval=5 \
    -R 13389:127.0.0.1:3389 "root@$S4"
  local cpid=$LAST_PID
  wait_listen "$SRV" tcp 13389
  sleep 1
  in_srv timeout 40 python3 "$T/fakerdp.py" client 13389 15 >"$T/log/fakerdp-client.log" 2>&1 &
  local ppid=$!
  sleep 4
  ss_snapshot $name
  wait "$ppid" || die "$name: fake RDP client failed: $(cat "$T/log/fakerdp-client.log")"
  sleep 1
  stop_pid "$cpid"
  stop_pid "$rpid"
  cap_stop
  stop_pid "$SSHD_PID"
  audit_stop $name
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Reverse SSH tunnel to port 443: the client (th-cli) runs ssh -N -R 13389:127.0.0.1:3389 to sshd on 443; on the server side a program connects to 127.0.0.1:13389 and talks to an RDP look-alike listening on the client's 127.0.0.1:3389 (X.224 connection request/confirm, then ~15 s of random bulk both ways, server-side peer 300 B/100 ms, client-side peer 1400 B/100 ms). Only the SSH flow is on the wire.",
  "made_with": "sshd -D -p 443 in th-srv; in th-cli: ssh -N -R 13389:127.0.0.1:3389 -p 443 root@$S4 and python3 fakerdp.py server 3389 (127.0.0.1); in th-srv: python3 fakerdp.py client 13389",
  "tunnel": true,
  "expected": { "alerts": [ { "rule_hint": "protocol-port-mismatch", "protocol": "ssh", "server_port": 443 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 443, "transport": "tcp", "protocol": "ssh", "connections": 1, "inner": "rdp-like via ssh -R 13389:127.0.0.1:3389" } ] }
EOF
  finalize $name "$OUT/$name.pcap" ssh,sshd,python3
}

sc_ssh_local_forward_22() {
  local name=ssh-local-forward-22 n=75
  audit_start $name
  start_nginx chunk
  start_sshd 22
  cap_start $name
  cli_ssh_bg "$name-client" -N -p 22 -o ExitOnForwardFailure=yes -L 127.0.0.1:8080:$S4:80 "root@$S4"
  local cpid=$LAST_PID
  wait_listen "$CLI" tcp 8080
  local i ok=0
  for ((i = 1; i <= n; i++)); do
    in_cli timeout 10 curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:8080/chunk-14k.bin \
      >>"$T/out/$name.out" 2>>"$T/log/$name-curl.log" || true
    ((i == 5)) && ss_snapshot $name
    sleep 1
  done
  ok=$(grep -c '^200$' "$T/out/$name.out" || true)
  ((ok >= n - 2)) || die "$name: only $ok of $n downloads worked"
  stop_pid "$cpid"
  cap_stop
  stop_pid "$SSHD_PID"
  stop_pid "$NGINX_PID" QUIT
  audit_stop $name
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "SSH on its normal port 22 used as a local port-forward: ssh -N -L 8080:$S4:80, then curl fetches a 14 KB file through the tunnel once a second, $n times. One SSH connection lasting about $((n + 2)) s that carries ~1 MB server-to-client and only small requests/window updates client-to-server (strongly asymmetric, long-lived, no interactive keystrokes).",
  "made_with": "sshd -D -p 22 and nginx (on $S4:80) in th-srv; in th-cli: ssh -N -L 127.0.0.1:8080:$S4:80 -p 22 root@$S4 and a loop of $n x (curl http://127.0.0.1:8080/chunk-14k.bin; sleep 1)",
  "tunnel": true,
  "expected": { "alerts": [ { "rule_hint": "ssh-asymmetric-long-lived", "protocol": "ssh", "server_port": 22 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 22, "transport": "tcp", "protocol": "ssh", "connections": 1, "inner": "http via ssh -L 8080:$S4:80" } ] }
EOF
  finalize $name "$OUT/$name.pcap" ssh,sshd,nginx,curl
}

sc_openssl_on_80() {
  local name=openssl-on-80
  local srvargs=(openssl s_server -accept "$S4:80" -cert "$T/tls.crt" -key "$T/tls.key" -naccept 1 -quiet)
  bg_in "$SRV" s_server-www timeout 60 "${srvargs[@]}" -www
  local spid=$LAST_PID
  wait_listen "$SRV" tcp 80
  cap_start $name
  # 1) one HTTP request over TLS (s_server -www answers with a status page)
  { printf 'GET / HTTP/1.0\r\n\r\n'; } |
    in_cli timeout 20 openssl s_client -connect "$S4:80" -servername tls80.tunnelhound.test -quiet \
      >"$T/out/$name-1.out" 2>"$T/log/$name-client1.log" || die "$name: s_client 1 failed"
  stop_pid "$spid"
  # 2) a line-based session lasting ~4 s (s_server -rev echoes each line reversed)
  bg_in "$SRV" s_server-rev timeout 60 "${srvargs[@]}" -rev
  spid=$LAST_PID
  wait_listen "$SRV" tcp 80
  { for i in $(seq 1 8); do printf 'tunnel payload line %d %s\n' "$i" "$(head -c 48 /dev/urandom | base64 -w0)"; sleep 0.5; done; } |
    in_cli timeout 20 openssl s_client -connect "$S4:80" -servername tls80.tunnelhound.test -brief \
      >"$T/out/$name-2.out" 2>"$T/log/$name-client2.log" &
  local cpid=$!
  sleep 1.5
  ss_snapshot $name
  wait "$cpid" || die "$name: s_client 2 failed: $(cat "$T/log/$name-client2.log")"
  cap_stop
  stop_pid "$spid"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "TLS on TCP 80 (the cleartext HTTP port): openssl s_server with a self-signed certificate. First connection sends an HTTP GET inside TLS (s_server -www status page); second connection is a 4 s line-based session (s_server -rev). SNI tls80.tunnelhound.test.",
  "made_with": "in th-srv: openssl s_server -accept $S4:80 -cert/-key (self-signed) -naccept 1 -www, then the same with -rev; in th-cli: openssl s_client -connect $S4:80 -servername tls80.tunnelhound.test",
  "tunnel": true,
  "expected": { "alerts": [ { "rule_hint": "protocol-port-mismatch", "protocol": "tls", "server_port": 80 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 80, "transport": "tcp", "protocol": "tls", "sni": "tls80.tunnelhound.test", "connections": 2 } ] }
EOF
  finalize $name "$OUT/$name.pcap" openssl
}

# ---------------------------------------------------------------- main
mkdir -p "$OUT"
T=$(mktemp -d /tmp/th-pcaps.XXXXXX)
make_material
for s in "${SCENARIOS[@]}"; do
  log "scenario $s"
  setup_lab # fresh namespaces per scenario: no ARP/ND cache, TIME-WAIT or process left from the previous one
  "sc_${s//-/_}"
  reset_namespaces
  ip netns del "$CLI"
  ip netns del "$SRV"
done
log "done: $(du -sh "$OUT" | cut -f1) in $OUT"
