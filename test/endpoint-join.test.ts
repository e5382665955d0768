// The join of endpoint events with flow records, the ForwardingFlags / AllowedTools policy,
// and what a match does to a detection and its alert document.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { buildVerdict } from '../src/analytics/verdict';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { configFrom } from '../src/config/load';
import { adjustForEndpoint } from '../src/detect/endpoint-adjust';
import { protocolPortMismatch } from '../src/detect/rules';
import { EndpointEvent } from '../src/endpoint/event';
import { EndpointJoin, MAX_SOCKET_EVENTS } from '../src/endpoint/join';
import {
  allowedTool, forwardedListenPorts, forwardingFlags, splitCommandLine,
} from '../src/endpoint/policy';
import { FlowRecord } from '../src/flow/flow-record';
import { alertDocument } from '../src/output/ecs';
import { ECS_JSON_SCHEMA } from '../src/output/ecs-schema';
import { REPO } from './helpers/cli';
import { flowRecord } from './helpers/flow-records';
import { parseEndpointText } from '../src/endpoint/readers';

const validate = new Ajv({ allErrors: true, strict: false }).compile(ECS_JSON_SCHEMA);

const rec = flowRecord;

function ev(over: Partial<EndpointEvent> & { action?: EndpointEvent['event']['action'] }):
  EndpointEvent {
  const { action, ...rest } = over;
  return {
    '@timestamp': new Date((over.ts ?? 1000) * 1000).toISOString(), ts: 1000, host: {},
    platform: 'linux',
    process: { pid: 10, name: 'ssh', executable: '/usr/bin/ssh',
      args: ['ssh', '-N', '-R', '13389:127.0.0.1:3389', 'root@10.77.0.2'] },
    event: { action: action ?? 'connect', module: 'test' },
    destination: { ip: '10.77.0.2', port: 443 },
    ...rest,
  };
}

const proc = (cmd: string) => ({ name: cmd.split(' ')[0], command_line: cmd });

t.test('ForwardingFlags on argv', async (t) => {
  const f = (cmd: string) => forwardingFlags(DEFAULT_CONFIG, proc(cmd));
  t.same(f('ssh -L8080:h:80 host'), ['-L 8080:h:80'], 'attached value');
  t.same(f('ssh -L 8080:h:80 host'), ['-L 8080:h:80'], 'separate value');
  t.same(f('ssh -NfR 13389:127.0.0.1:3389 u@h'), ['-R 13389:127.0.0.1:3389'], 'cluster');
  t.same(f('ssh -p 2222 -D 1080 -w 0:1 h'), ['-D 1080', '-w 0:1']);
  t.same(f('ssh -o LocalForward=no -i /k/-L h'), [], '-o and -i values are not flags');
  t.same(f('ssh host ssh -L 1:h:2 other'), [], 'the remote command is not ours');
  t.same(f('ssh -l admin -vL 1:h:2 h'), ['-L 1:h:2'], 'after options with values');
  t.same(f('sshd -D -R -p 22'), [], 'sshd argv never counts');
  t.same(forwardingFlags(DEFAULT_CONFIG, { executable: 'C:\\Tools\\PLINK.EXE',
    command_line: 'PLINK.EXE h -P 80 -R 127.0.0.3:4444:127.0.0.2:3389 -pw x' }),
  ['-R 127.0.0.3:4444:127.0.0.2:3389'], 'plink.exe case-insensitively');
  t.same(f('plink h -Lx'), [], '-Lx is not -L');
  t.same(f('plink h -L8080:h:80'), ['-L 8080:h:80'], 'plink attached value');
  t.same(f('plink h -l user -D 1080'), ['-D 1080'], 'plink -l (user) is not -L');
  t.same(f('netsh interface portproxy add v4tov4 listenport=4444 connectaddress=x'),
    ['interface portproxy'], 'netsh');
  t.same(f('netsh i p a v listenport=4444'), ['i p'], 'netsh abbreviated');
  t.same(f('netsh interface ipv4 show'), [], 'other netsh contexts');
  t.same(f('socat TCP-LISTEN:8443,fork TCP:10.0.0.5:22'), ['TCP-LISTEN:8443,fork']);
  t.same(f('socat tcp-l:9000 exec:/bin/sh'), ['tcp-l:9000'], 'socat alias, lower case');
  t.same(f('socat - TCP:h:80'), [], 'socat client only');
  t.same(f('curl -L http://x'), [], 'no list for curl');
  t.same(splitCommandLine('"C:\\Program Files\\x.exe" -a "b c"'),
    ['C:\\Program Files\\x.exe', '-a', 'b c']);
  t.same(forwardedListenPorts(['-L 127.0.0.1:8080:10.77.0.2:80', '-R 13389:127.0.0.1:3389',
    '-D 1080', 'TCP-LISTEN:8443,fork']), [8080, 13389, 1080, 8443]);
});

t.test('AllowedTools: every given field must match', async (t) => {
  const cfg = configFrom({ AllowedTools: [
    { name: 'ssh', user: 'backup', action: 'lower' },
    { executable: 'C:\\Tools\\plink.exe', action: 'suppress' },
    { sha256: 'AB'.repeat(32), action: 'suppress' },
  ] });
  const e = ev({ user: { name: 'backup' } });
  t.same(allowedTool(cfg, e), { action: 'lower', entry: 0 });
  t.equal(allowedTool(cfg, ev({ user: { name: 'root' } })), undefined, 'user differs');
  t.same(allowedTool(cfg, ev({ process: { executable: 'c:\\tools\\PLINK.exe' } })),
    { action: 'suppress', entry: 1 }, 'Windows path without case');
  t.same(allowedTool(cfg, ev({ process: { hash: { sha256: 'ab'.repeat(32) } } })),
    { action: 'suppress', entry: 2 });
});

t.test('join strengths, window, skew, transport, host', async (t) => {
  const j = new EndpointJoin(DEFAULT_CONFIG);
  j.add(ev({ ts: 1003 }));
  const m = j.match(rec({}));
  t.equal(m?.strength, 'remote_only');
  t.same(m?.forwardingFlags, ['-R 13389:127.0.0.1:3389']);
  t.same(m?.owner.host.ip, ['10.77.0.1'], 'host of the end it owns');
  t.equal(j.match(rec({ flowId: 'f3', ipProto: 17 }))?.strength, 'remote_only',
    'auditd has no transport: either matches');
  t.equal(j.match(rec({ flowId: 'f2', firstTs: 1400, lastTs: 1410 })), undefined,
    'outside TimeWindow + skew');
  const k = new EndpointJoin(DEFAULT_CONFIG);
  k.add(ev({ ts: 1000 + DEFAULT_CONFIG.TimeWindow + 4, network: { transport: 'tcp' },
    source: { ip: '10.77.0.1', port: 40000 } }));
  t.equal(k.match(rec({ lastTs: 1001 }))?.strength, undefined,
    'after the flow ended and beyond skew: no');
  const x = new EndpointJoin(DEFAULT_CONFIG);
  x.add(ev({ ts: 1004, network: { transport: 'tcp' }, source: { ip: '10.77.0.1', port: 40000 },
    process: { pid: 7, name: 'mstsc.exe' }, platform: 'windows', host: { ip: ['10.77.0.1'] } }));
  x.add(ev({ ts: 1000, action: 'accept', process: { pid: 8, name: 'sshd' },
    destination: { ip: '10.77.0.1', port: 40000 } }));
  const mx = x.match(rec({ lastTs: 1001 }));
  t.equal(mx?.strength, 'exact', 'exact beats remote_only, 4 s skew tolerated');
  t.equal(mx?.owner.process.name, 'mstsc.exe');
  t.equal(x.match(rec({ flowId: 'u', ipProto: 17, lastTs: 1001 }))?.owner.process.name, 'sshd',
    'udp flow: the tcp event does not fit, the transport-less accept does');
  const h = new EndpointJoin(DEFAULT_CONFIG);
  h.add(ev({ host: { ip: ['192.0.2.9'] } }));
  t.equal(h.match(rec({})), undefined, 'agent on another host');
});

t.test('sshd: flags from its settings, never from its argv; pid reuse', async (t) => {
  const j = new EndpointJoin(DEFAULT_CONFIG);
  j.add(ev({ action: 'config', setting: { key: 'AllowTcpForwarding', value: 'yes' },
    destination: undefined }));
  j.add(ev({ action: 'config', setting: { key: 'PermitRootLogin', value: 'yes' },
    destination: undefined }));
  j.add(ev({ action: 'config', destination: undefined }));
  j.add(ev({ action: 'accept', process: { pid: 8, name: 'sshd', args: ['sshd', '-D', '-R'] },
    destination: { ip: '10.77.0.1', port: 40000 } }));
  const m = j.match(rec({}));
  t.equal(m?.owner.process.name, 'sshd');
  t.same(m?.forwardingFlags, ['AllowTcpForwarding yes']);
  const p = new EndpointJoin(DEFAULT_CONFIG);
  p.add(ev({ ts: 999, action: 'exec', process: { pid: 10, name: 'bash',
    command_line: 'bash -c x' }, destination: undefined }));
  p.add(ev({ process: { pid: 10, name: 'ssh', command_line: 'ssh -D 1080 h' } }));
  t.equal(p.match(rec({}))?.owner.process.command_line, 'ssh -D 1080 h',
    'an exec of another program under the same pid is not this process');
});

t.test('loopback leg links the local client through the listening process', async (t) => {
  const j = new EndpointJoin(DEFAULT_CONFIG);
  // sshd accepts the carrier, its child binds the -R port, a local client connects to it.
  j.add(ev({ ts: 999, action: 'accept', process: { pid: 100, name: 'sshd' },
    destination: { ip: '10.77.0.1', port: 40000 } }));
  j.add(ev({ ts: 999.5, action: 'exec', process: { pid: 101, name: 'sshd',
    parent: { pid: 100 } }, destination: undefined }));
  j.add(ev({ ts: 1000, action: 'listen', process: { pid: 102, name: 'sshd',
    parent: { pid: 101 } }, destination: undefined, source: { ip: '127.0.0.1', port: 5555 } }));
  j.add(ev({ ts: 1002, process: { pid: 300, name: 'xfreerdp' },
    destination: { ip: '127.0.0.1', port: 5555 } }));
  j.add(ev({ ts: 1003, process: { pid: 102, name: 'sshd' },
    destination: { ip: '127.0.0.1', port: 5555 } }));
  const m = j.match(rec({}));
  t.equal(m?.owner.process.name, 'sshd', 'no forwarder on the client host in this test');
  t.equal(m?.client?.process.name, 'xfreerdp', 'the listener itself is not the client');
  t.equal(j.stats.linkedClients, 1);
});

t.test('bounds: age by the packet clock, hard cap, cache per live flow', async (t) => {
  const j = new EndpointJoin(DEFAULT_CONFIG);
  j.add(ev({ ts: 1000 }));
  const ft = DEFAULT_CONFIG.flowTable;
  const horizon = DEFAULT_CONFIG.TimeWindow + DEFAULT_CONFIG.endpoint.clockSkewSec +
    ft.activeTimeoutSec + ft.idleTimeoutSec;
  j.advance(1000 + horizon - 1);
  t.equal(j.stats.evicted, 0);
  j.advance(1000 + horizon + 1);
  t.equal(j.stats.evicted, 1, 'gone once no flow can reach it');
  const many = new EndpointJoin(DEFAULT_CONFIG);
  for (let i = 0; i < 5000; i++) many.add(ev({ ts: 1000 + i * 1e-3 }));
  many.add(ev({ action: 'listen', source: { ip: '127.0.0.1', port: 8080 }, ts: 1001 }));
  many.advance(1010 + horizon);
  t.equal(many.stats.evicted, 5001, 'socket and listen events alike');
  t.equal(many.match(rec({ firstTs: 1009 + horizon, lastTs: 1010 + horizon })), undefined);
  const c = new EndpointJoin(DEFAULT_CONFIG);
  for (let i = 0; i < MAX_SOCKET_EVENTS + 5; i++) c.add(ev({ ts: 1000 + i * 1e-6 }));
  t.equal(c.stats.evicted, 5, 'cap');
  const live = new EndpointJoin(DEFAULT_CONFIG);
  live.add(ev({}));
  const first = live.match(rec({ final: false }));
  t.equal(live.match(rec({ final: true, reportSeq: 1 })), first, 'same match on a later report');
  t.equal(live.stats.matchedFlows, 1, 'counted once');
  t.ok(live.lagSeconds(1100) === 100);
});

t.test('a match changes the detection and fills the alert', async (t) => {
  const r = rec({});
  const d = protocolPortMismatch(DEFAULT_CONFIG, r)!;
  const j = new EndpointJoin(DEFAULT_CONFIG);
  j.add(ev({ user: { name: 'root' } }));
  const m = j.match(r)!;
  const up = adjustForEndpoint(DEFAULT_CONFIG, d, m)!;
  t.equal(up.analytic, 'AN1484', 'linux owner');
  t.equal(up.score, Math.min(100, d.score + 25));
  const fe = up.evidence.find((x) => x.signal === 'forwarding_flags')!;
  t.equal(fe.config_key, 'ForwardingFlags');
  t.equal(fe.value, '-R 13389:127.0.0.1:3389');
  const other = adjustForEndpoint(DEFAULT_CONFIG, { ...d, detection: 'another', score: 10 }, m)!;
  const doc = alertDocument(r, buildVerdict(up.analytic, [up, other], 0), m);
  t.ok(validate(doc), JSON.stringify(validate.errors));
  t.equal(doc.tunnelhound.evidence?.filter((e) => e.signal === 'forwarding_flags').length, 1,
    'the endpoint evidence once per alert, not once per detection');
  t.equal(doc.process?.name, 'ssh');
  t.equal(doc.user?.name, 'root');
  t.equal(doc.tunnelhound.endpoint?.strength, 'remote_only');
  const lower = adjustForEndpoint(DEFAULT_CONFIG, { ...d, severity: 'medium', score: 60 },
    { ...m, forwardingFlags: [], allowed: { action: 'lower', entry: 0 } })!;
  t.equal(lower.severity, 'low');
  t.equal(lower.score, 30);
  t.equal(adjustForEndpoint(DEFAULT_CONFIG, d, { ...m, allowed: { action: 'suppress',
    entry: 0 } }), null);
});

// Windows path, on the public Sysmon sample of an RDP-over-SSH tunnel with plink.exe. We have
// no capture of that traffic: the flow record is SYNTHETIC, built to carry the 5-tuple and
// time of its Sysmon 3 event (10.0.2.17:49185 -> 10.0.2.18:80 tcp, 2019-02-16 10:02:21.995).
t.test('Sysmon plink sample: exact join on a synthetic flow with its 5-tuple', async (t) => {
  const xml = fs.readFileSync(path.resolve(REPO,
    '../shared/corpus/endpoint/windows/sysmon-xml/eas_DE_sysmon-3-rdp-tun.xml'), 'utf8');
  const parsed = parseEndpointText(xml);
  t.equal(parsed.format, 'sysmon-xml', 'read by the Sysmon XML reader');
  const events = parsed.events;
  const j = new EndpointJoin(DEFAULT_CONFIG);
  for (const e of events) j.add(e);
  const t0 = Date.parse('2019-02-16T10:02:21.995Z') / 1000;
  const r = rec({ clientIp: '10.0.2.17', clientPort: 49185, serverIp: '10.0.2.18',
    serverPort: 80, firstTs: t0 + 0.01, lastTs: t0 + 150 });
  const m = j.match(r);
  t.equal(m?.strength, 'exact');
  t.equal(m?.owner.process.executable, 'C:\\Users\\IEUser\\Desktop\\plink.exe');
  t.equal(m?.owner.process.command_line,
    'plink.exe  10.0.2.18 -P 80 -C -R 127.0.0.3:4444:127.0.0.2:3389 -l test -pw test',
    'command line from Sysmon 1 by ProcessGuid');
  t.same(m?.forwardingFlags, ['-R 127.0.0.3:4444:127.0.0.2:3389']);
  t.equal(m?.client, undefined, 'the -R listener is on the SSH server, not seen here');
  const d = adjustForEndpoint(DEFAULT_CONFIG, protocolPortMismatch(DEFAULT_CONFIG, r)!, m!)!;
  t.equal(d.analytic, 'AN1483', 'windows owner');
  const doc = alertDocument(r, buildVerdict(d.analytic, [d], 0), m);
  t.ok(validate(doc), JSON.stringify(validate.errors));
  t.equal(doc.host?.name, 'PC01.example.corp');
  t.same(doc.user, { name: 'IEUser', domain: 'PC01' });
  const cfg = configFrom({ AllowedTools: [{ name: 'PLINK.EXE', action: 'suppress' }] });
  const js = new EndpointJoin(cfg);
  for (const e of events) js.add(e);
  const ms = js.match(r)!;
  t.same(ms.allowed, { action: 'suppress', entry: 0 });
  t.equal(adjustForEndpoint(cfg, protocolPortMismatch(cfg, r)!, ms), null, 'suppressed');
});
