#!/usr/bin/env python3
"""Cut one scenario's records out of the shared /var/log/audit/audit.log.

Usage: audit-extract.py AUDIT_LOG KEY NAMESPACE... > out.audit.log

auditd is one per kernel, so several lab runs may share it; each run tags its syscall rules
with its own key. An event (all records with one msg=audit(ts:serial)) is kept when one of
its SYSCALL records carries KEY and its process descends from an `ip netns exec NS` of one of
the given namespaces: that drops whatever else the machine did meanwhile. The records are
written unchanged (ENRICHED format included), so the output is a real audit.log.

AUDIT_SINCE (epoch seconds, set by audit_start) drops events of earlier runs still in the
rotated logs make-pcaps.sh passes in: their `ip netns exec` of the same namespace names would
otherwise make their processes look like ours.
"""
import os
import re
import sys
from collections import OrderedDict

SERIAL = re.compile(r'msg=audit\(([0-9.]+:[0-9]+)\)')
# x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl); the rules are arch=b64.
SOCKET_CALLS = ['42', '43', '49', '50', '288']  # connect accept bind listen accept4
EXEC_CALLS = ['59']  # execve
FIELD = re.compile(r'\b(pid|ppid|key|syscall)=("[^"]*"|\S+)')


def main() -> None:
    path, key, namespaces = sys.argv[1], sys.argv[2], sys.argv[3:]
    since = float(os.environ.get('AUDIT_SINCE', '0'))
    events: "OrderedDict[str, list[str]]" = OrderedDict()
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = SERIAL.search(line)
            if m and float(m.group(1).split(':')[0]) >= since:
                events.setdefault(m.group(1), []).append(line)
    ours: set = set()
    kept = []
    for serial, lines in events.items():
        sysc = next((l for l in lines if l.startswith('type=SYSCALL')), None)
        if sysc is None:
            continue
        fields = dict(FIELD.findall(sysc.split('\x1d')[0]))
        # The kernel logs the key of the first rule that matched: when another run's rules
        # also catch our processes, the event carries its key. The namespace lineage below
        # decides what is ours; here only the calls our rules ask for are kept.
        call = fields.get('syscall')
        if fields.get('key', '').strip('"') != key and call not in SOCKET_CALLS + EXEC_CALLS:
            continue
        if call in EXEC_CALLS and 'success=no' in sysc:
            continue  # a PATH search that failed (see audit_rules in make-pcaps.sh)
        pid, ppid = fields.get('pid'), fields.get('ppid')
        execve = next((l for l in lines if l.startswith('type=EXECVE')), '')
        args = re.findall(r'\ba\d+=("[^"]*"|\S+)', execve)
        args = [a.strip('"') for a in args]
        # The root of a lab process tree: `ip netns exec <ns> ...` (args may be hex-encoded
        # only when they contain spaces; namespace names never do).
        if len(args) >= 4 and args[0].endswith('ip') and args[1:3] == ['netns', 'exec'] \
                and args[3] in namespaces:
            ours.add(pid)
        if pid in ours or ppid in ours:
            ours.add(pid)
            kept.extend(lines)
    sys.stdout.write(''.join(kept))


if __name__ == '__main__':
    main()
