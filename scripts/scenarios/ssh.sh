# ssh.sh - SSH session-shape scenarios (issue 4): forwarding of real protocols through
# ssh -L / -D, a longer interactive session, and file copies with scp and sftp.
# Sourced by make-pcaps.sh; every sc_* function runs in fresh namespaces and records the
# lab's processes with auditd (pcaps/NAME.audit.log).
# shellcheck shell=bash disable=SC2154  # T, S4, C4, SRV, CLI... come from make-pcaps.sh

ALL_SCENARIOS+=(ssh-L-smb-22 ssh-L-rdp-22 ssh-D-socks-22 ssh-interactive-22 scp-22 sftp-22)

# Debian packages these scenarios need beyond make-pcaps.sh's own list.
ssh_sc_tools() { # command...
  local -A pkg=([smbd]=samba [smbclient]=smbclient [xrdp]=xrdp [xfreerdp]=freerdp2-x11
    [Xvfb]=xvfb [vim]=vim-tiny [top]=procps [sftp]=openssh-client)
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("${pkg[$c]}"); done
  ((${#missing[@]})) || return 0
  log "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || die "could not install ${missing[*]}"
}

# A label file for one scenario; $4 is the JSON array of expected alerts.
ssh_sc_meta() { # name description made_with alerts-json tunnel inner
  local inner=
  [[ -n ${6:-} ]] && inner=", \"inner\": \"$6\""
  cat >"$T/meta-$1.json" <<EOF
{ "name": "$1",
  "description": "$2",
  "made_with": "$3",
  "tunnel": $5,
  "expected": { "alerts": $4 },
  "flows": [ { "client": "$C4", "server": "$S4", "server_port": 22, "transport": "tcp", "protocol": "ssh", "connections": 1$inner } ] }
EOF
}

ssh_sc_alert() { # detection
  printf '[ { "analytic": "AN1483", "detection": "%s", "protocol": "ssh", "server_port": 22 } ]' "$1"
}

# ---------------------------------------------------------------- ssh -L carrying SMB
sc_ssh_L_smb_22() {
  local name=ssh-L-smb-22
  ssh_sc_tools smbd smbclient
  local sd=$T/samba-$name
  mkdir -p "$sd"/{share,private,lock,state,cache,pid,log}
  head -c 393216 /dev/urandom >"$sd/share/quarterly-report.bin"
  printf 'meeting notes\n' >"$sd/share/notes.txt"
  chmod -R a+rX "$sd/share"
  # smbd listens on the server's loopback only: the forwarded connection never touches the
  # veth, so the capture holds just the SSH flow, as a sensor would see it.
  cat >"$sd/smb.conf" <<EOF
[global]
  interfaces = lo
  bind interfaces only = yes
  smb ports = 445
  server role = standalone server
  map to guest = Bad User
  guest account = root
  private dir = $sd/private
  lock directory = $sd/lock
  state directory = $sd/state
  cache directory = $sd/cache
  pid directory = $sd/pid
  log file = $sd/log/smbd.log
  disable netbios = yes
  load printers = no
  printcap name = /dev/null
[share]
  path = $sd/share
  guest ok = yes
  read only = yes
EOF
  # Without --no-process-group smbd starts its own session: when it stops it signals its
  # whole process group, which must not be this script's.
  bg_in "$SRV" smbd smbd --foreground --configfile="$sd/smb.conf" \
    --debug-stdout --debuglevel=1
  local smbpid=$LAST_PID
  wait_listen "$SRV" tcp 445 300
  # The audit starts once smbd is up: its start-up is not part of the scenario, and the
  # poll for its listener under load would fill the record with ip/ss runs.
  audit_start $name
  start_sshd 22
  cap_start $name
  cli_ssh_bg "$name-client" -N -p 22 -o ExitOnForwardFailure=yes \
    -L 127.0.0.1:1445:127.0.0.1:445 "root@$S4"
  local cpid=$LAST_PID
  wait_listen "$CLI" tcp 1445
  sleep 1
  local smb=(timeout 60 smbclient //127.0.0.1/share -p 1445 -N -m SMB3)
  in_cli "${smb[@]}" -c 'ls' >"$T/out/$name-1.out" 2>&1 || die "$name: smbclient ls failed"
  sleep 2
  ss_snapshot $name
  in_cli "${smb[@]}" -c "get notes.txt $T/out/$name-notes.txt; get quarterly-report.bin \
$T/out/$name-report.bin" >"$T/out/$name-2.out" 2>&1 || die "$name: smbclient get failed"
  cmp -s "$sd/share/quarterly-report.bin" "$T/out/$name-report.bin" || die "$name: copy differs"
  sleep 2
  in_cli "${smb[@]}" -c 'ls; allinfo notes.txt' >>"$T/out/$name-1.out" 2>&1 || true
  sleep 1
  stop_pid "$cpid"
  cap_stop
  audit_stop $name
  stop_pid "$SSHD_PID"
  stop_pid "$smbpid"
  ssh_sc_meta $name "SMB through ssh -L on port 22: ssh -N -L 1445:127.0.0.1:445 to sshd on 22, then smbclient (SMB3, guest) through the forward lists a share, fetches a text file and a 384 KB file, and lists again, as three SMB connections over about 8 s. smbd listens on the server's loopback, so only the SSH flow is on the wire." \
    "smbd (samba, loopback 445) and sshd -D -p 22 in the server namespace; in the client: ssh -N -L 127.0.0.1:1445:127.0.0.1:445 root@$S4 and smbclient //127.0.0.1/share -p 1445 -N -m SMB3 -c 'ls' / 'get ...'" \
    "$(ssh_sc_alert ssh_forward_local)" true "smb via ssh -L 1445:127.0.0.1:445"
  finalize $name "$OUT/$name.pcap" ssh,sshd
}

# ---------------------------------------------------------------- ssh -L carrying RDP
sc_ssh_L_rdp_22() {
  local name=ssh-L-rdp-22
  ssh_sc_tools xrdp xfreerdp Xvfb
  local xd=$T/xrdp-$name
  mkdir -p "$xd" /run/xrdp/sockdir
  # xrdp with its packaged settings, but on the server's loopback and without forking.
  sed -e 's|^port=.*|port=tcp://127.0.0.1:3389|' -e 's|^fork=.*|fork=false|' \
    /etc/xrdp/xrdp.ini >"$xd/xrdp.ini"
  bg_in "$SRV" xrdp xrdp --nodaemon --config "$xd/xrdp.ini"
  local xpid=$LAST_PID
  wait_listen "$SRV" tcp 3389
  bg_in "$CLI" xvfb Xvfb :87 -screen 0 1024x768x24 -nolisten tcp
  local vpid=$LAST_PID
  audit_start $name # after xrdp and Xvfb are up: their start-up is not the scenario
  start_sshd 22
  cap_start $name
  cli_ssh_bg "$name-client" -N -p 22 -o ExitOnForwardFailure=yes \
    -L 127.0.0.1:13389:127.0.0.1:3389 "root@$S4"
  local cpid=$LAST_PID
  wait_listen "$CLI" tcp 13389
  sleep 1
  # A real RDP client (TLS security, 800x600, no credentials so that xrdp shows its login
  # window) on that screen for 12 s: X.224,
  # TLS, MCS, capabilities, then bitmap updates; it ends with a timeout, as a user closing
  # the window would.
  in_cli env DISPLAY=:87 timeout 12 xfreerdp /v:127.0.0.1:13389 /cert:ignore \
    /size:800x600 /sec:tls >"$T/log/$name-xfreerdp.log" 2>&1 &
  local rpid=$!
  sleep 5
  ss_snapshot $name
  wait "$rpid" || true
  sleep 1
  stop_pid "$cpid"
  cap_stop
  audit_stop $name
  stop_pid "$SSHD_PID"
  stop_pid "$xpid"
  stop_pid "$vpid"
  ssh_sc_meta $name "RDP through ssh -L on port 22: ssh -N -L 13389:127.0.0.1:3389 to sshd on 22; xrdp listens on the server's loopback and a real RDP client (xfreerdp under Xvfb, TLS security, 800x600) connects through the forward and stays on xrdp's login screen for 12 s. Only the SSH flow is on the wire." \
    "xrdp --nodaemon (packaged xrdp.ini, port tcp://127.0.0.1:3389) and sshd -D -p 22 in the server namespace; in the client: ssh -N -L 127.0.0.1:13389:127.0.0.1:3389 root@$S4, Xvfb :87, timeout 12 xfreerdp /v:127.0.0.1:13389 /cert:ignore /sec:tls /size:800x600" \
    "$(ssh_sc_alert ssh_forward_local)" true "rdp via ssh -L 13389:127.0.0.1:3389"
  finalize $name "$OUT/$name.pcap" ssh,sshd
}

# ---------------------------------------------------------------- ssh -D (SOCKS)
sc_ssh_D_socks_22() {
  local name=ssh-D-socks-22
  start_nginx chunk
  audit_start $name
  start_sshd 22
  cap_start $name
  cli_ssh_bg "$name-client" -N -p 22 -o ExitOnForwardFailure=yes -D 127.0.0.1:1080 "root@$S4"
  local cpid=$LAST_PID
  wait_listen "$CLI" tcp 1080
  sleep 1
  local i path ok urls=()
  for path in index.html style.css notes.txt data.json chunk-14k.bin; do
    urls+=(-o /dev/null "http://$S4/$path")
  done
  # A browsing-like pattern: six visits with reading pauses, each one SOCKS connection (so
  # one SSH channel) fetching a page and its parts at 4 requests a second.
  for i in 1 2 3 4 5 6; do
    in_cli timeout 30 curl -s --rate 4/s -w '%{http_code}\n' --socks5-hostname 127.0.0.1:1080 \
      "${urls[@]}" >>"$T/out/$name.out" 2>>"$T/log/$name-curl.log"
    ((i == 2)) && ss_snapshot $name
    sleep $((1 + i % 3))
  done
  ok=$(grep -c '^200$' "$T/out/$name.out" || true)
  ((ok >= 28)) || die "$name: only $ok of 30 fetches worked"
  stop_pid "$cpid"
  cap_stop
  audit_stop $name
  stop_pid "$SSHD_PID"
  stop_pid "$NGINX_PID" QUIT
  ssh_sc_meta $name "Dynamic forwarding: ssh -N -D 1080 to sshd on 22 and curl --socks5-hostname through it, 30 HTTP fetches (pages, a 14 KB file) from nginx on the server in six visits with 1-3 s pauses; each visit is one SOCKS connection, so one SSH channel, with five requests 250 ms apart. The forwarded connections stay inside the server namespace; only the SSH flow is on the wire." \
    "nginx ($S4:80) and sshd -D -p 22 in the server namespace; in the client: ssh -N -D 127.0.0.1:1080 root@$S4 and 6 x curl --rate 4/s --socks5-hostname 127.0.0.1:1080 http://$S4/{index.html,style.css,notes.txt,data.json,chunk-14k.bin}" \
    "$(ssh_sc_alert ssh_forward_local)" true "http via ssh -D 1080 (SOCKS5)"
  finalize $name "$OUT/$name.pcap" ssh,sshd,nginx,curl
}

# ---------------------------------------------------------------- interactive, longer
# Type like a person: 60-260 ms between keystrokes, a pause to think between commands.
type_human() { # text
  local s=$1 i
  for ((i = 0; i < ${#s}; i++)); do
    printf '%s' "${s:i:1}"
    sleep "0.$(printf '%02d' $((6 + RANDOM % 21)))"
  done
}

sc_ssh_interactive_22() {
  local name=ssh-interactive-22
  audit_start $name
  ssh_sc_tools vim top
  start_sshd 22
  cap_start $name
  RANDOM=4242 # the same rhythm every run
  {
    sleep 1.5
    type_human 'cd /tmp && ls -la'; printf '\r'; sleep 2.2
    type_human 'cat /etc/os-release'; printf '\r'; sleep 3.1
    type_human 'top -d 1'; printf '\r'; sleep 6
    printf 'q'; sleep 1.5
    type_human 'vi notes-th.txt'; printf '\r'; sleep 1.2
    type_human 'i'; type_human 'check the backup job tonight'; printf '\r'
    type_human 'rotate the old logs'; printf '\033'; sleep 0.8
    type_human ':wq'; printf '\r'; sleep 1.5
    type_human 'wc -l notes-th.txt; rm notes-th.txt'; printf '\r'; sleep 2.5
    type_human 'ps aux | head -n 15'; printf '\r'; sleep 2.8
    type_human 'df -h'; printf '\r'; sleep 1.6
    type_human 'exit'; printf '\r'; sleep 1
  } | in_cli env TERM=xterm timeout 120 ssh "${SSH_OPTS[@]}" -tt -p 22 "root@$S4" \
    >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 4
  ss_snapshot $name
  wait "$cpid" || die "$name: ssh failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  audit_stop $name
  stop_pid "$SSHD_PID"
  ssh_sc_meta $name "Benign interactive SSH on 22, about a minute: a person typing (60-260 ms between keys, pauses between commands) ls, cat, top for 6 s (full-screen refresh every second), a short edit in vi, ps, df, exit." \
    "sshd -D -p 22 in the server namespace; in the client: keystrokes with random human gaps piped into TERM=xterm ssh -tt -p 22 root@$S4" \
    "[]" false
  finalize $name "$OUT/$name.pcap" ssh,sshd
}

# ---------------------------------------------------------------- file copies
sc_scp_22() {
  local name=scp-22
  audit_start $name
  start_sshd 22
  head -c 917504 /dev/urandom >"$T/$name-upload.bin"
  cap_start $name
  in_cli timeout 60 scp "${SSH_OPTS[@]}" -l 8000 -P 22 "$T/$name-upload.bin" "root@$S4:$T/$name-copy.bin" \
    2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 0.5
  ss_snapshot $name
  wait "$cpid" || die "$name: scp failed: $(cat "$T/log/$name-client.log")"
  cmp -s "$T/$name-upload.bin" "$T/$name-copy.bin" || die "$name: copy differs"
  cap_stop
  audit_stop $name
  stop_pid "$SSHD_PID"
  ssh_sc_meta $name "Benign file copy: scp (OpenSSH's default, the SFTP protocol underneath) uploads a 896 KB file to sshd on 22. One short, very asymmetric SSH flow: bulk client to server, acknowledgements and small replies back." \
    "sshd -D -p 22 (Subsystem sftp internal-sftp) in the server namespace; in the client: scp -l 8000 -P 22 upload.bin root@$S4:..." \
    "[]" false
  finalize $name "$OUT/$name.pcap" ssh,sshd
}

sc_sftp_22() {
  local name=sftp-22
  audit_start $name
  start_sshd 22
  head -c 655360 /dev/urandom >"$T/$name-remote.bin"
  head -c 262144 /dev/urandom >"$T/$name-local.bin"
  cat >"$T/$name.batch" <<EOF
cd $T
ls -l $name-remote.bin
get $name-remote.bin $T/out/$name-got.bin
put $T/$name-local.bin $name-put.bin
ls -l $name-put.bin
EOF
  cap_start $name
  in_cli timeout 60 sftp "${SSH_OPTS[@]}" -l 8000 -P 22 -b "$T/$name.batch" "root@$S4" \
    >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 0.5
  ss_snapshot $name
  wait "$cpid" || die "$name: sftp failed: $(cat "$T/log/$name-client.log")"
  cmp -s "$T/$name-remote.bin" "$T/out/$name-got.bin" || die "$name: download differs"
  cmp -s "$T/$name-local.bin" "$T/$name-put.bin" || die "$name: upload differs"
  cap_stop
  audit_stop $name
  stop_pid "$SSHD_PID"
  ssh_sc_meta $name "Benign file copy with sftp in batch mode on 22: list, download a 640 KB file, upload a 256 KB file, list. One SSH flow with bulk first server to client, then client to server." \
    "sshd -D -p 22 (Subsystem sftp internal-sftp) in the server namespace; in the client: sftp -l 8000 -P 22 -b batch root@$S4 (ls, get, put, ls)" \
    "[]" false
  finalize $name "$OUT/$name.pcap" ssh,sshd
}

# ---------------------------------------------------------------- ssh inside ssh (-J)
ALL_SCENARIOS+=(ssh-J-nested-22)
sc_ssh_J_nested_22() {
  local name=ssh-J-nested-22
  audit_start $name
  start_sshd 22
  # The inner sshd: same keys and settings, on the server's loopback, reachable only
  # through the jump host's forward (ProxyJump is ssh -W, a direct-tcpip channel).
  bg_in "$SRV" sshd-inner "$SSHD_BIN" -D -e -f "$T/sshd_config" -p 2222 \
    -o ListenAddress=127.0.0.1 -o "PidFile=$T/sshd-inner.pid"
  local ipid=$LAST_PID
  wait_listen "$SRV" tcp 2222
  cap_start $name
  RANDOM=1717
  {
    sleep 2.5
    type_human 'hostname; uptime'; printf '\r'; sleep 2.4
    type_human 'ls -la /etc | head -n 20'; printf '\r'; sleep 2.9
    type_human 'whoami'; printf '\r'; sleep 1.8
    type_human 'exit'; printf '\r'; sleep 1
  } | in_cli env TERM=xterm timeout 120 ssh "${SSH_OPTS[@]}" -tt \
    -o "ProxyCommand=ssh ${SSH_OPTS[*]} -W %h:%p -p 22 root@$S4" -p 2222 root@127.0.0.1 \
    >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 5
  ss_snapshot $name
  wait "$cpid" || die "$name: ssh failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  audit_stop $name
  stop_pid "$ipid"
  stop_pid "$SSHD_PID"
  ssh_sc_meta $name "SSH inside SSH: an interactive session to an sshd on the server's loopback port 2222, reached through the sshd on 22 as a jump host (ssh -W, what ProxyJump does). The outer flow carries the inner session's encrypted keystrokes, each wrapped in an outer channel-data packet, about 20 s of typing." \
    "sshd -D -p 22 and a second sshd on 127.0.0.1:2222 in the server namespace; in the client: keystrokes piped into ssh -tt -o ProxyCommand='ssh -W %h:%p -p 22 root@$S4' -p 2222 root@127.0.0.1" \
    "$(ssh_sc_alert ssh_forward_local)" true "interactive ssh via ssh -W 127.0.0.1:2222"
  finalize $name "$OUT/$name.pcap" ssh,sshd
}

# ---------------------------------------------------------------- interactive, other cipher
# The same kind of session with AES-CTR and an encrypt-then-MAC HMAC: 52-byte keystrokes
# instead of chacha20-poly1305's 36, to check the size arithmetic on real traffic.
ALL_SCENARIOS+=(ssh-etm-22)
sc_ssh_etm_22() {
  local name=ssh-etm-22
  audit_start $name
  start_sshd 22
  cap_start $name
  RANDOM=2323
  {
    sleep 1.5
    type_human 'uname -a'; printf '\r'; sleep 2.1
    type_human 'ls -l /etc | tail -n 8'; printf '\r'; sleep 2.6
    type_human 'date'; printf '\r'; sleep 1.4
    type_human 'exit'; printf '\r'; sleep 1
  } | in_cli env TERM=xterm timeout 120 ssh "${SSH_OPTS[@]}" -tt -c aes128-ctr \
    -m hmac-sha2-256-etm@openssh.com -p 22 "root@$S4" \
    >"$T/out/$name.out" 2>"$T/log/$name-client.log" &
  local cpid=$!
  sleep 3
  ss_snapshot $name
  wait "$cpid" || die "$name: ssh failed: $(cat "$T/log/$name-client.log")"
  cap_stop
  audit_stop $name
  stop_pid "$SSHD_PID"
  ssh_sc_meta $name "Benign interactive SSH on 22 with aes128-ctr and hmac-sha2-256-etm@openssh.com (52-byte keystrokes): uname, ls, date typed with human gaps, exit; about 15 s." \
    "sshd -D -p 22 in the server namespace; in the client: keystrokes piped into ssh -tt -c aes128-ctr -m hmac-sha2-256-etm@openssh.com -p 22 root@$S4" \
    "[]" false
  finalize $name "$OUT/$name.pcap" ssh,sshd
}
