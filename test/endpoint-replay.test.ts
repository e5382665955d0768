// Our captures replayed with the auditd records recorded while making them (scripts/
// make-pcaps.sh: audit_start/audit_stop in the lab's namespaces): the alert names the
// forwarding program and its flags, says how it was joined, and AllowedTools silences it.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { ECS_JSON_SCHEMA } from '../src/output/ecs-schema';
import { PCAPS, parseNdjson, runCli } from './helpers/cli';

const validate = new Ajv({ allErrors: true, strict: false }).compile(ECS_JSON_SCHEMA);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-epjoin-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const CASES = [
  { name: 'ssh-reverse-443', flag: '-R 13389:127.0.0.1:3389', detection: 'protocol_port_mismatch',
    client: 'python3', clientArg: 'fakerdp.py' },
  { name: 'ssh-local-forward-22', flag: '-L 127.0.0.1:8080:10.77.0.2:80',
    detection: 'ssh_asymmetric_long_lived', client: 'curl', clientArg: '127.0.0.1:8080' },
];

for (const c of CASES) {
  t.test(`${c.name}: the forwarder behind the alert`, async (t) => {
    const pcap = path.join(PCAPS, `${c.name}.pcap`);
    const audit = path.join(PCAPS, `${c.name}.audit.log`);
    const r = await runCli(['replay', '--workers', '0', pcap, '--endpoint', audit]);
    t.equal(r.code, 0, r.stderr);
    const alerts = parseNdjson(r.stdout);
    for (const a of alerts) if (!validate(a)) t.fail('schema', { errors: validate.errors });
    const a = alerts.find((x) => x.tunnelhound.detection === c.detection);
    t.ok(a, `${c.detection} raised`);
    t.equal(a?.process?.name, 'ssh');
    t.equal(a?.process?.executable, '/usr/bin/ssh');
    t.match(a?.process?.command_line, c.flag, 'full argv from EXECVE, not the stale proctitle');
    t.equal(a?.tunnelhound.endpoint.strength, 'remote_only', 'auditd connect: remote end only');
    t.same(a?.tunnelhound.endpoint.forwarding_flags, [c.flag]);
    t.equal(a?.rule.id, 'AN1484', 'linux owner');
    t.same(a?.host?.ip, ['10.77.0.1'], 'the client end of the flow');
    const ev = a?.tunnelhound.evidence.find((e: any) => e.signal === 'forwarding_flags');
    t.equal(ev?.config_key, 'ForwardingFlags');
    t.equal(a?.event.severity, 73, 'raised to high');
    t.equal(a?.tunnelhound.endpoint.client?.process.name, c.client, 'loopback leg linked');
    t.match(a?.tunnelhound.endpoint.client?.process.command_line, c.clientArg);
    t.match(r.stderr, new RegExp('endpoint: \\d+ events, 0 malformed, 1 flows matched ' +
      '\\(0 exact, 1 remote_only\\), 1 local clients linked'));

    const plain = await runCli(['replay', '--workers', '0', pcap]);
    const p = parseNdjson(plain.stdout).find((x) => x.tunnelhound.detection === c.detection);
    t.ok(p !== undefined && p.process === undefined, 'without --endpoint: no process');
    t.ok(p!.tunnelhound.score < a?.tunnelhound.score, 'the flags raised the score');

    const cfg = path.join(tmp, `${c.name}-allow.json`);
    fs.writeFileSync(cfg, JSON.stringify({
      AllowedTools: [{ executable: '/usr/bin/ssh', user: 'root', action: 'suppress' }],
    }));
    const s = await runCli(['replay', '--workers', '0', pcap, '--endpoint', audit,
      '--config', cfg]);
    t.equal(s.code, 0, s.stderr);
    t.same(parseNdjson(s.stdout).filter((x) => x.tunnelhound.detection === c.detection), [],
      'AllowedTools suppress: no alert');
  });
}

t.test('endpoint options: clear errors', async (t) => {
  const pcap = path.join(PCAPS, 'ssh-22.pcap');
  const missing = await runCli(['replay', pcap, '--endpoint', path.join(tmp, 'nope.log')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--endpoint .*nope\.log: cannot read the file/);
  const fmt = await runCli(['replay', pcap, '--endpoint', path.join(PCAPS,
    'ssh-reverse-443.audit.log'), '--endpoint-format', 'nosuch']);
  t.equal(fmt.code, 2);
  t.match(fmt.stderr, /--endpoint-format: unknown endpoint format/);
  const junk = path.join(tmp, 'junk.log');
  fs.writeFileSync(junk, 'not an event\nnor this\n');
  const j = await runCli(['replay', '--workers', '0', pcap, '--endpoint', junk]);
  t.equal(j.code, 0, 'malformed input is never fatal');
  t.match(j.stderr, /endpoint: 0 events, 2 malformed, 0 flows matched/);
  // live checks its endpoint options before it opens the interface.
  const live = (...args: string[]) => runCli(['live', '--interface', 'th-no-such-if', ...args]);
  const hp = await live('--endpoint-listen', '127.0.0.1');
  t.equal(hp.code, 2);
  t.match(hp.stderr, /--endpoint-listen 127\.0\.0\.1: expected HOST:PORT/);
  const key = await live('--endpoint-listen', '127.0.0.1:0', '--endpoint-tls-cert', pcap);
  t.equal(key.code, 2);
  t.match(key.stderr, /--endpoint-tls-cert and --endpoint-tls-key go together/);
});
