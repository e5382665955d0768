// The auditd reader against public samples (go-libaudit test data, RAW format) and the real
// ENRICHED logs recorded with our captures (pcaps/*.audit.log, scripts/make-pcaps.sh).

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { EndpointEvent } from '../src/endpoint/event';
import { AuditdReader, MAX_PENDING_EVENTS } from '../src/endpoint/readers/auditd';
import {
  decodeAuditString, decodeSaddr, parseAuditRecord, splitFields,
} from '../src/endpoint/readers/auditd-fields';
import { detectFormat, parseEndpointText } from '../src/endpoint/readers';
import { PCAPS, REPO } from './helpers/cli';

const SAMPLES = path.resolve(REPO, '../shared/corpus/endpoint/linux/auditd');
const read = (f: string) => fs.readFileSync(f, 'utf8');

t.test('ubuntu 16.10 sample: accept, EINPROGRESS connect, execve', async (t) => {
  const r = parseEndpointText(read(path.join(SAMPLES, 'golibaudit_ubuntu-16.10-linux-4.8.0.log')));
  t.equal(r.format, 'auditd');
  t.equal(r.malformed, 0);
  const by = (a: string) => r.events.filter((e) => e.event.action === a);
  const [acc] = by('accept');
  t.same(acc.destination, { ip: '72.83.230.100', port: 58140 }, 'saddr 0200E31C4853E664');
  t.equal(acc.process.pid, 1663);
  t.equal(acc.process.executable, '/usr/sbin/sshd');
  t.equal(acc.process.command_line, '(sshd)', 'quoted proctitle taken as is');
  t.equal(acc.ts, 1492752520.441);
  const [con] = by('connect');
  t.same(con.destination, { ip: '169.254.169.254', port: 80 }, 'exit=-115 counts');
  t.equal(con.process.name, 'google_ip_forwa');
  const [ex] = by('exec');
  t.same(ex.process.args, ['uname', '-a']);
  t.equal(ex.process.parent?.pid, 10027);
  t.equal(ex.user?.name, '1001', 'RAW format: the numeric uid');
  t.equal(r.events.length, 3, 'ioctl, iptables, ntpd, systemd listen(2): no socket address');
});

t.test('ubuntu 17.04 and RHEL 7 samples', async (t) => {
  const u = parseEndpointText(read(path.join(SAMPLES, 'golibaudit_ubuntu-17.04-linux-4.10.0.log')));
  t.equal(u.events.length, 1);
  t.equal(u.events[0].process.command_line, 'docker inspect 721df12151a7');
  const text = read(path.join(SAMPLES, 'golibaudit_audit-rhel7.log'));
  const rh = parseEndpointText(text);
  t.equal(rh.format, 'auditd');
  t.equal(rh.malformed, 1, 'only type=UNKNOWN[1329] msg=? (DAEMON_CONFIG has no colon: fine)');
  // One record per event in this file: no SYSCALL+SOCKADDR pair, so no socket event; the
  // four EXECVE records without their SYSCALL still give what ran (no pid to join on).
  t.same(rh.events.map((e) => e.event.action), ['exec', 'exec', 'exec', 'exec']);
  t.same(rh.events.map((e) => e.process.name), ['auditctl', 'cat', 'grep', 'jq']);
  t.equal(rh.events[0].process.command_line, 'auditctl -a exit,always -F arch=b32 -S execve');
  t.equal(rh.events[0].process.pid, undefined, 'no SYSCALL record: no pid');
  t.equal(rh.events[0]['@timestamp'], '2016-12-07T02:20:31.371Z');
  const line = text.split('\n').find((l) => l.includes(':512226)'))!;
  const rec = parseAuditRecord(line)!;
  t.equal(decodeAuditString(rec.fields.get('exe')), '/usr/bin/python2.7;58d1ccfb (deleted)',
    'hex exe (it holds a space)');
  t.equal(decodeSaddr('0A000016000000000000000000000000000000000000000000000000')?.ip, '::',
    'AF_INET6 port 22 unspecified');
  t.equal(decodeSaddr('100000000000000000000000'), null, 'netlink skipped');
  t.equal(decodeSaddr('01002F7661722F72756E2F6E7363642F736F636B657400'), null, 'AF_UNIX');
});

t.test('field decoding', async (t) => {
  t.same(decodeSaddr('0A001F900000000020010DB8000000000000000000000001'), {
    ip: '2001:db8::1', port: 8080,
  });
  t.same(decodeSaddr('0A0001BB0000000000000000000000000000FFFF0A4D0002'),
    { ip: '10.77.0.2', port: 443 }, 'IPv4-mapped becomes IPv4');
  t.equal(decodeSaddr('0200'), null, 'short');
  t.equal(decodeSaddr('zz'), null, 'not hex');
  const f = splitFields('a="x y" b=\'op=1 c=2\' SADDR={ fam=inet lport=1 } d=4');
  t.same([...f.entries()], [['a', '"x y"'], ['b', "'op=1 c=2'"],
    ['SADDR', '{ fam=inet lport=1 }'], ['d', '4']]);
  t.equal(decodeAuditString('(null)'), undefined);
  t.equal(detectFormat(['hello', 'world']), null);
});

function feed(lines: string[]): { events: EndpointEvent[]; reader: AuditdReader } {
  const reader = new AuditdReader();
  const events: EndpointEvent[] = [];
  lines.forEach((l, i) => events.push(...reader.push(l, i + 1)));
  events.push(...reader.end());
  return { events, reader };
}

const SYS = (ts: string, serial: number, call: number, extra = '') =>
  `type=SYSCALL msg=audit(${ts}:${serial}): arch=c000003e syscall=${call} success=yes exit=0 ` +
  `ppid=1 pid=${serial} uid=0 comm="x" exe="/usr/bin/x" key="k"${extra}`;

t.test('grouping: interleaved records, EOE, timeout, split EXECVE args', async (t) => {
  const { events, reader } = feed([
    SYS('100.000', 1, 42),
    SYS('100.001', 2, 59),
    'type=SOCKADDR msg=audit(100.000:1): saddr=02000016C0A800010000000000000000',
    'type=EXECVE msg=audit(100.001:2): argc=3 a0="ssh" a1_len=6 a1[0]=2D4E66 a1[1]=52 ' +
      'a2="22:h:22"',
    'type=EOE msg=audit(100.001:2):',
    'garbage that is not an audit record',
    'type=PROCTITLE msg=audit(100.000:1): proctitle=737368002D4E665200',
    SYS('103.5', 3, 49),
    'type=SOCKADDR msg=audit(103.5:3): saddr=02000000000000000000000000000000',
  ]);
  t.equal(reader.malformed, 1);
  t.same(events.map((e) => e.event.action), ['exec', 'connect'],
    'exec closed by EOE first; connect by age; bind to port 0 dropped');
  t.same(events[0].process.args, ['ssh', '-NfR', '22:h:22']);
  t.equal(events[1].process.command_line, 'ssh -NfR', 'NULs as spaces, trailing NUL dropped');
  t.same(events[1].destination, { ip: '192.168.0.1', port: 22 });
  t.equal(events[1].event.line, 1);
});

t.test('pending set is bounded', async (t) => {
  const lines: string[] = [];
  // Complete connects that no EOE closes, all at one instant (no timeout applies).
  for (let i = 0; i < MAX_PENDING_EVENTS + 10; i++) {
    lines.push(SYS('50.000', i + 1, 42),
      `type=SOCKADDR msg=audit(50.000:${i + 1}): saddr=02000016C0A800010000000000000000`);
  }
  const reader = new AuditdReader();
  let early = 0;
  lines.forEach((l, i) => { early += reader.push(l, i + 1).length; });
  t.equal(early, 10, 'the oldest flushed under pressure, one per new event past the cap');
  t.equal(reader.end().length, MAX_PENDING_EVENTS, 'the rest at the end');
});

t.test('real ENRICHED log: ssh -R recorded with ssh-reverse-443.pcap', async (t) => {
  const r = parseEndpointText(read(path.join(PCAPS, 'ssh-reverse-443.audit.log')));
  t.equal(r.format, 'auditd');
  t.equal(r.malformed, 0);
  const sshExec = r.events.find((e) => e.event.action === 'exec' && e.process.name === 'ssh');
  t.ok(sshExec?.process.args?.includes('13389:127.0.0.1:3389'), 'argv from EXECVE');
  const sshConnect = r.events.find((e) => e.event.action === 'connect' &&
    e.process.name === 'ssh' && e.destination?.port === 443);
  t.same(sshConnect?.destination, { ip: '10.77.0.2', port: 443 });
  t.equal(sshConnect?.user?.name, 'root', 'ENRICHED UID="root"');
  t.equal(sshConnect?.process.pid, sshExec?.process.pid);
  const accept = r.events.find((e) => e.event.action === 'accept' &&
    e.process.name === 'sshd' && e.destination?.ip === '10.77.0.1');
  t.ok(accept !== undefined && accept.destination!.port! > 1024, 'peer with ephemeral port');
  const listen = r.events.find((e) => e.event.action === 'listen' && e.source?.port === 13389);
  t.equal(listen?.process.name, 'sshd', 'sshd binds the -R port');
});
