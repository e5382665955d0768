// What a user gets for bad input: a one-line message naming the thing and the reason, and
// the documented exit status (1 runtime failure, 2 usage or config error).

import t, { Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PCAPS, REPO, runCli } from './helpers/cli';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-cli-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const good = path.join(PCAPS, 'ssh-22.pcap');

function oneLine(t: Test, stderr: string, re: RegExp): void {
  const lines = stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line: ${stderr}`);
  t.match(lines[0], re);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
}

t.test('missing capture: exit 1, names the file and the reason', async (t) => {
  const r = await runCli(['replay', path.join(tmp, 'nope.pcap')]);
  t.equal(r.code, 1);
  oneLine(t, r.stderr, /nope\.pcap: No such file or directory/);
  t.equal(r.stdout, '');
});

t.test('not a capture: exit 1, before any work on the good files', async (t) => {
  const r = await runCli(['replay', good, path.join(REPO, 'README.md')]);
  t.equal(r.code, 1);
  oneLine(t, r.stderr, /README\.md: unknown file format/);
  t.equal(r.stdout, '', 'no alerts from a half-done run');
});

t.test('bad filter: exit 2 with libpcap\'s reason', async (t) => {
  const r = await runCli(['replay', '--bpf', 'tcp porrt 22', good]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /invalid capture filter "tcp porrt 22": .*syntax error/);
});

t.test('bad config: exit 2, names the key, the value and the rule', async (t) => {
  const cfg = path.join(tmp, 'bad.json');
  fs.writeFileSync(cfg, JSON.stringify({ PayloadEntropyThreshold: 9 }));
  const r = await runCli(['replay', '--config', cfg, good]);
  t.equal(r.code, 2);
  oneLine(t, r.stderr, /config key PayloadEntropyThreshold: value 9 must be <= 8/);
  fs.writeFileSync(cfg, '{ not json');
  const r2 = await runCli(['replay', '--config', cfg, good]);
  t.equal(r2.code, 2);
  oneLine(t, r2.stderr, /bad\.json:\d+:\d+: not valid YAML/);
});

t.test('bad options: exit 2', async (t) => {
  const r = await runCli(['replay', '--workers', 'abc', good]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--workers must be an integer from 0 to 256/);
  const r2 = await runCli(['frobnicate']);
  t.equal(r2.code, 2);
  t.match(r2.stderr, /unknown command 'frobnicate'/);
  const r3 = await runCli(['live']);
  t.equal(r3.code, 2);
  t.match(r3.stderr, /required option '--interface <if>' not specified/);
});

t.test('a good config changes the verdict', async (t) => {
  // SSH on 22 for 5 s is benign by default; with the duration and volume floors lowered
  // and asymmetry just over 1 every SSH flow qualifies, which proves the file is read and
  // applied.
  const cfg = path.join(tmp, 'low.json');
  fs.writeFileSync(cfg, JSON.stringify({
    DataAsymmetryThreshold: 1.01,
    // The session-shape rule would call this short session interactive and spare it.
    rules: { sshAsymmetry: { minDurationSec: 1, minPayloadBytes: 100 },
      sshSessionShape: { enabled: false } },
  }));
  const r = await runCli(['replay', '--config', cfg, good]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /"detection":"ssh_asymmetric_long_lived"/);
});

t.test('a full disk under --alerts is an error, not a quiet success', async (t) => {
  const r = await runCli(['replay', '--alerts', '/dev/full', path.join(PCAPS, 'ssh-on-443.pcap')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /cannot write alerts to \/dev\/full: no space left on the device \(ENOSPC\)/);
});
