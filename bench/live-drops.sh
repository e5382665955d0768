#!/usr/bin/env bash
# live-drops.sh - how fast can `tunnelhound live` take packets without dropping any, and does
# it say so honestly when it cannot?
#
# Replays bench/out/bulk-300.pcap with tcpreplay onto one end of a veth pair (namespace
# $TH_LAB-dtx) while `tunnelhound live` captures on the other end (namespace $TH_LAB-drx),
# once per buffer size and rate: stepped --pps rates, then --topspeed. For each run it prints
# one Markdown row: what tcpreplay sent and at what rate, what the veth itself dropped, what
# the sensor's summary says (received, kernel drops, interface drops, packets processed), and
# whether the sensor's accounting adds up (received - kernel drops = packets processed, and
# received + veth drops = sent).
#
# Usage: sudo bash bench/live-drops.sh
# Environment:
#   BULK=file          the capture to replay (default bench/out/bulk-300.pcap, made if missing;
#                      tcpreplay -K holds it in memory, per sender)
#   RATES="..."        packets/s steps, "top" for --topspeed (default below)
#   BUFFERS="..."      --buffer-size values in bytes (default 32 MiB, the default, and 256 MiB)
#   DURATION=s         seconds of replay per run (default 10)
#   WORKERS=n          --workers for the sensor (default: tunnelhound's own default)
#   SENDERS=n          tcpreplay processes sending at once, each at the asked rate (default 1:
#                      one tcpreplay tops out near 90k packets/s on a veth here)
#   TH_LAB=prefix      namespace prefix (default th)
#
# Needs root, tcpreplay, iproute2, a built tree (npm run build). No traffic leaves the
# machine: both ends of the veth live in namespaces made here, removed again on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BULK=${BULK:-$ROOT/bench/out/bulk-300.pcap}
RATES=${RATES:-"20000 40000 60000 80000 100000 150000 200000 top"}
BUFFERS=${BUFFERS:-"33554432 268435456"}
DURATION=${DURATION:-10}
LAB=${TH_LAB:-th}
TX=$LAB-dtx RX=$LAB-drx
TXIF=drop-tx RXIF=drop-rx
# veth takes frames up to 64 KiB; the reference captures hold offloaded (GSO) frames that
# exceed 1500 bytes, which tcpreplay could not send at the default MTU.
MTU=65535
# Seconds after tcpreplay ends before SIGTERM: the sensor reads what is left in its ring.
SETTLE=2
TMP=$(mktemp -d)

cleanup() {
  [ -n "${SENSOR:-}" ] && kill -KILL "$SENSOR" 2>/dev/null || true
  ip netns del "$TX" 2>/dev/null || true
  ip netns del "$RX" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -f "$BULK" ]; then
  (cd "$ROOT" && node dist/bench/make-bench-captures.js bulk-300) >&2
fi

cleanup_lab() {
  ip netns del "$TX" 2>/dev/null || true
  ip netns del "$RX" 2>/dev/null || true
}
cleanup_lab
ip netns add "$TX"
ip netns add "$RX"
ip -n "$TX" link add "$TXIF" mtu "$MTU" type veth peer name "$RXIF" mtu "$MTU" netns "$RX"
for ns in "$TX" "$RX"; do
  # No IPv6 router solicitations or neighbour discovery: every packet counted is one we sent.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$TX" link set "$TXIF" up
ip -n "$RX" link set "$RXIF" up

stat_of() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

# veth drops a frame when the receiving side's backlog is full; it counts it as tx_dropped on
# the sending end (and rx_dropped on the receiving one, in newer kernels).
veth_drops() {
  echo $(( $(stat_of "$TX" "$TXIF" tx_dropped) + $(stat_of "$RX" "$RXIF" rx_dropped) ))
}

run() {
  local buffer=$1 rate=$2
  local log=$TMP/sensor.log
  local -a extra=()
  [ -n "${WORKERS:-}" ] && extra+=(--workers "$WORKERS")
  ip netns exec "$RX" node "$ROOT/bin/tunnelhound.js" live --interface "$RXIF" \
    --buffer-size "$buffer" --log-level info "${extra[@]}" >/dev/null 2>"$log" &
  SENSOR=$!
  for _ in $(seq 100); do
    grep -q '"capture started"' "$log" && break
    sleep 0.1
  done
  local before
  before=$(veth_drops)
  local -a speed
  if [ "$rate" = top ]; then speed=(--topspeed); else speed=(--pps "$rate"); fi
  # --loop: at top speed one pass of the file is shorter than DURATION. -K: the file is read
  # into memory first, so disk reads do not set the pace.
  local -a senders=()
  for i in $(seq "${SENDERS:-1}"); do
    ip netns exec "$TX" tcpreplay -K -i "$TXIF" "${speed[@]}" --loop 20 \
      --duration "$DURATION" "$BULK" >"$TMP/replay.$i.txt" 2>&1 &
    senders+=($!)
  done
  wait "${senders[@]}" || true
  sleep "$SETTLE"
  local vdrops=$(( $(veth_drops) - before ))
  kill -TERM "$SENSOR"
  wait "$SENSOR" || true
  SENSOR=

  local sent pps mbps summary packets recv kdrop ifdrop check
  # Summed over the senders (they run side by side, so their rates add up).
  sent=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$TMP"/replay.*.txt |
    awk '{ s += $1 } END { print s }')
  pps=$(sed -n 's/^Rated: .* \([0-9.]*\) pps$/\1/p' "$TMP"/replay.*.txt |
    awk '{ s += $1 } END { print s }')
  mbps=$(sed -n 's/^Rated: [0-9.]* Bps, \([0-9.]*\) Mbps.*/\1/p' "$TMP"/replay.*.txt |
    awk '{ s += $1 } END { printf "%.0f", s }')
  rm -f "$TMP"/replay.*.txt
  summary=$(grep '^tunnelhound: ' "$log" | tail -1)
  packets=$(sed -n 's/^tunnelhound: \([0-9]*\) packets.*/\1/p' <<<"$summary")
  recv=$(sed -n 's/.*capture: \([0-9]*\) received.*/\1/p' <<<"$summary")
  kdrop=$(sed -n 's/.* \([0-9]*\) dropped by kernel.*/\1/p' <<<"$summary")
  ifdrop=$(sed -n 's/.* \([0-9]*\) dropped by interface.*/\1/p' <<<"$summary")
  if [ -z "$packets" ] || [ -z "$recv" ]; then
    echo "run buffer=$buffer rate=$rate: no summary; sensor log:" >&2
    cat "$log" >&2
    return 1
  fi
  check=ok
  [ $(( recv - kdrop )) -eq "$packets" ] || check="received-dropped=$(( recv - kdrop ))"
  [ $(( recv + vdrops )) -eq "$sent" ] || check="$check, sent-received=$(( sent - recv ))"
  printf '| %s MiB | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    $(( buffer / 1048576 )) "$rate" "${pps:-0}" "${mbps:-?}" "$sent" "$vdrops" "$recv" \
    "$kdrop" "$ifdrop" "$packets" "$check"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(date -u +%FT%TZ)"
echo "tunnelhound $(git -C "$ROOT" rev-parse --short HEAD); capture $(basename "$BULK");" \
  "$DURATION s per run; ${SENDERS:-1} sender(s); workers ${WORKERS:-default}"
echo
echo '| buffer | asked pps | sent pps | Mbit/s | sent | veth drops | received |' \
  'kernel drops | if drops | processed | accounting |'
echo '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
for buffer in $BUFFERS; do
  for rate in $RATES; do
    run "$buffer" "$rate"
  done
done
