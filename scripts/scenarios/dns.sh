# DNS-family scenarios for make-pcaps.sh (sourced): DoH from a workstation and from an ESXi
# management address, an iodine DNS tunnel, and a busy but ordinary resolver workload.
# Servers: dnsmasq (plain DNS, authoritative for lab names), dnsdist (DoH frontend on 443
# with the lab's self-signed certificate, forwarding to dnsmasq), iodined (the tunnel).

ALL_SCENARIOS+=(doh-workstation-443 doh-esxi-443 dns-tunnel-iodine dns-busy-53)

# The ESXi-role address of the client namespace; pcaps/lab.yaml lists it under
# assets.esxiManagement with profile "management".
ESXI4=10.77.0.50
DOH_NAME=doh.tunnelhound.test

# The versions finalize() records, for the tools make-pcaps.sh itself does not know.
dns_tool_versions() {
  grep -q '^dnsdist=' "$T/tools.env" && return 0
  {
    printf 'dnsdist=%s\n' "$(dnsdist --version 2>&1 | head -n1)"
    printf 'kdig=%s\n' "$(kdig --version 2>&1 | head -n1)"
    printf 'iodine=iodine %s\n' "$(dpkg-query -W -f='${Version}' iodine 2>/dev/null || echo '?')"
  } >>"$T/tools.env"
}

dns_start_dnsmasq() { # extra dnsmasq options...
  dns_tool_versions
  cat >"$T/dnsmasq-dns.conf" <<EOF
port=53
listen-address=$S4
bind-interfaces
no-resolv
no-hosts
pid-file=$T/dnsmasq-dns.pid
address=/example.test/10.77.0.9
local=/lab.test/
host-record=www.lab.test,10.77.0.20
host-record=mail.lab.test,10.77.0.25
txt-record=lab.test,"v=spf1 mx -all"
EOF
  bg_in "$SRV" dnsmasq-dns dnsmasq -k -C "$T/dnsmasq-dns.conf" "$@"
  DNSMASQ_PID=$LAST_PID
  wait_listen "$SRV" udp 53
}

dns_start_dnsdist() {
  # DoH frontend (RFC 8484) on 443, answering through dnsmasq on 53.
  cat >"$T/dnsdist.conf" <<EOF
setSecurityPollSuffix("")
newServer({address="$S4:53", healthCheckMode="lazy"})
addDOHLocal("$S4:443", "$T/tls.crt", "$T/tls.key", "/dns-query")
EOF
  bg_in "$SRV" dnsdist dnsdist --supervised --disable-syslog -C "$T/dnsdist.conf"
  DNSDIST_PID=$LAST_PID
  wait_listen "$SRV" tcp 443
}

dns_doh_lookups() { # source-address label
  local src=$1 url=https://$DOH_NAME/dns-query res="$DOH_NAME:443:$S4" n
  # The host first uses the lab resolver the ordinary way ...
  for n in www.lab.test mail.lab.test; do
    in_cli dig +tries=1 +time=2 -b "$src" @$S4 $n A
    sleep 0.2
  done
  # ... then a DoH client (curl's resolver) fetches names over HTTPS, one GET-less POST each
  # (curl --doh-url POSTs application/dns-message over HTTP/2), several lookups per run.
  for n in www.example.test api.example.test cdn.example.test www.lab.test; do
    in_cli timeout 20 curl -sk --interface "$src" --resolve "$res" --doh-insecure \
      --doh-url "$url" -o /dev/null -w '%{http_code} doh ok\n' --connect-timeout 1 \
      "http://$n:9/" || true
    sleep 0.3
  done
  # kdig keeps one HTTP/2 connection for several questions, like a stub resolver would.
  in_cli timeout 20 kdig -b "$src" @$S4 +https=/dns-query \
    +tls-sni=$DOH_NAME www.example.test A mail.lab.test A lab.test TXT
}

dns_doh_scenario() { # name src
  local name=$1 src=$2
  dns_start_dnsmasq
  dns_start_dnsdist
  cap_start "$name"
  dns_doh_lookups "$src" >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 0.8
  ss_snapshot "$name" -tuanpi
  wait "$cpid" || die "$name: DoH client failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  stop_pid "$DNSDIST_PID"
  stop_pid "$DNSMASQ_PID"
  grep -q 'www.example.test' "$T/out/$name.out" || die "$name: kdig got no answer"
}

sc_doh_workstation_443() {
  local name=doh-workstation-443
  dns_doh_scenario $name "$C4"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "DoH from a workstation to a resolver nobody listed in ExpectedDoHResolvers: dnsdist with a DoH frontend on $S4:443 (self-signed certificate, SNI $DOH_NAME, ALPN h2) answering through dnsmasq; the host first asks the lab resolver over plain UDP/53 twice, then curl --doh-url makes four DoH lookups (one connection each) and kdig +https asks three questions over one HTTP/2 connection.",
  "made_with": "dnsmasq -k (no-resolv, lab names) and dnsdist --supervised (addDOHLocal $S4:443 /dns-query) in the server namespace; dig, curl --doh-url --doh-insecure, kdig +https in the client namespace from $C4",
  "tunnel": true,
  "expected": { "alerts": [ { "analytic": "AN1485", "detection": "doh_unexpected_resolver", "protocol": "tls", "server_port": 443 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 53, "transport": "udp", "protocol": "dns", "connections": 2 },
             { "client": "$C4", "server": "$S4", "server_port": 443, "transport": "tcp", "protocol": "tls", "sni": "$DOH_NAME", "inner": "doh", "connections": 5 } ] }
EOF
  finalize $name "$OUT/$name.pcap" dnsmasq,dnsdist,curl,kdig,dig
}

sc_doh_esxi_443() {
  local name=doh-esxi-443
  # Every program picks its source from the route (curl's DoH handles ignore --interface),
  # so the second address becomes the preferred source of the lab subnet.
  in_cli ip addr add "$ESXI4/24" dev "$CIF"
  in_cli ip route replace 10.77.0.0/24 dev "$CIF" src "$ESXI4"
  dns_doh_scenario $name "$ESXI4"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "DoH from an ESXi management address: the client namespace gets a second address $ESXI4 (pcaps/lab.yaml lists it under assets.esxiManagement, profile management); from it the host asks the lab resolver twice over plain UDP/53 (allowed by the profile) and then speaks DoH to dnsdist on $S4:443 (SNI $DOH_NAME): outbound HTTPS is outside the management profile, and DoH from a management interface is what AN1486 names.",
  "made_with": "dnsmasq -k and dnsdist --supervised (addDOHLocal $S4:443) in the server namespace; dig -b, curl --interface --doh-url, kdig -b +https in the client namespace from $ESXI4",
  "tunnel": true,
  "expected": { "alerts": [ { "analytic": "AN1486", "detection": "doh_unexpected_resolver", "protocol": "tls", "server_port": 443 },
                            { "analytic": "AN1486", "detection": "esxi_profile_violation", "protocol": "tls", "server_port": 443 } ] },
  "flows": [ { "client": "$ESXI4", "server": "$S4", "server_port": 53, "transport": "udp", "protocol": "dns", "connections": 2 },
             { "client": "$ESXI4", "server": "$S4", "server_port": 443, "transport": "tcp", "protocol": "tls", "sni": "$DOH_NAME", "inner": "doh", "connections": 5 } ] }
EOF
  finalize $name "$OUT/$name.pcap" dnsmasq,dnsdist,curl,kdig,dig
}

sc_dns_tunnel_iodine() {
  local name=dns-tunnel-iodine pw=thlabtunnel domain=t.tunnelhound.test
  dns_tool_versions
  # iodined answers the tunnel domain itself on $S4:53; the client points at it directly.
  bg_in "$SRV" iodined iodined -f -c -l "$S4" -P "$pw" 172.31.77.1/27 "$domain"
  local spid=$LAST_PID
  wait_listen "$SRV" udp 53
  cap_start $name
  bg_in "$CLI" iodine iodine -f -r -P "$pw" "$S4" "$domain"
  local cpid=$LAST_PID i
  for ((i = 0; i < 150; i++)); do
    in_cli ip addr show dns0 2>/dev/null | grep -q 'inet 172.31.77' && break
    sleep 0.1
  done
  in_cli ip addr show dns0 | grep -q 'inet 172.31.77' || die "$name: iodine tunnel did not come up"
  ss_snapshot $name -tuanpi
  # Data through the tunnel: pings and a small TCP transfer to a listener on the far end.
  in_cli ping -c 5 -i 0.3 -s 200 172.31.77.1 >"$T/out/$name.out" 2>&1 || true
  bg_in "$SRV" tunnel-sink socat -u TCP-LISTEN:8000,bind=172.31.77.1,reuseaddr OPEN:/dev/null
  local kpid=$LAST_PID
  wait_listen "$SRV" tcp 8000
  head -c 12000 /dev/urandom | in_cli timeout 60 socat -u STDIN TCP:172.31.77.1:8000 ||
    log "$name: transfer through the tunnel ended early"
  sleep 0.5
  stop_pid "$kpid"
  stop_pid "$cpid"
  cap_stop
  stop_pid "$spid"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "A DNS tunnel: iodined in the server namespace is authoritative for $domain on $S4:53; the iodine client talks to it directly (raw UDP mode refused with -r, so every byte goes through DNS queries), brings up dns0, then 5 pings of 200 bytes and a 12 KB random upload over TCP cross the tunnel. Queries carry encoded data in long, high-entropy labels under $domain with NULL/TXT-style record types.",
  "made_with": "iodined -f -c -l $S4 -P ... 172.31.77.1/27 $domain in the server namespace; iodine -f -r -P ... $S4 $domain, ping and socat over dns0 in the client namespace",
  "tunnel": true,
  "expected": { "alerts": [ { "analytic": "AN1485", "detection": "dns_tunnel", "protocol": "dns", "server_port": 53 } ] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 53, "transport": "udp", "protocol": "dns", "inner": "ip-over-dns (iodine)", "connections": 1 } ] }
EOF
  finalize $name "$OUT/$name.pcap" iodine
}

sc_dns_busy_53() {
  local name=dns-busy-53
  dns_start_dnsmasq --address=/cdn.example.test/10.77.0.30 --address=/in-addr.arpa/10.77.0.31
  cap_start $name
  # A resolver's ordinary day, compressed: many distinct names under a few domains (a CDN
  # with hashed-looking but short host names, service discovery, reverse lookups, long but
  # wordy names), each from its own source port as stub resolvers do.
  local q=() i
  for i in $(seq 1 40); do q+=("img$i.cdn.example.test A"); done
  for i in $(seq 1 30); do q+=("$i.0.77.10.in-addr.arpa PTR"); done
  for w in www mail api static login intranet wiki git ci docs; do
    q+=("$w.example.test A" "$w.example.test AAAA")
  done
  q+=("_ldap._tcp.dc._msdcs.lab.test SRV" "_kerberos._udp.lab.test SRV" "lab.test TXT"
    "lab.test MX" "this-is-a-rather-long-but-ordinary-hostname-for-testing.example.test A"
    "autodiscover.example.test A" "wpad.lab.test A" "time.example.test A")
  {
    for i in "${q[@]}"; do
      # shellcheck disable=SC2086
      in_cli dig +tries=1 +time=1 @$S4 $i
      sleep 0.02
    done
  } >"$T/out/$name.out" 2>"$T/log/$name-client.log"
  cap_stop
  stop_pid "$DNSMASQ_PID"
  cat >"$T/meta-$name.json" <<EOF
{ "name": "$name",
  "description": "Benign but busy DNS: ${#q[@]} ordinary lookups within a few seconds from one host to dnsmasq: 40 CDN image hosts, 30 reverse lookups, A/AAAA for ten service names, SRV for DNS-SD/AD names, TXT, MX and one long but wordy host name. Many distinct subdomains per parent domain, none encoded.",
  "made_with": "dnsmasq -k (no-resolv, wildcard address= for cdn.example.test and in-addr.arpa) in the server namespace; dig in a loop in the client namespace",
  "tunnel": false,
  "expected": { "alerts": [] },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 53, "transport": "udp", "protocol": "dns", "connections": ${#q[@]} } ] }
EOF
  finalize $name "$OUT/$name.pcap" dnsmasq,dig
}
