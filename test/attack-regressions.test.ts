// Regressions from an attack with bad input: YAML alias bombs and self-referencing aliases in
// a config were internal errors with a stack trace (exit 1), infinite numbers were quoted as
// null; each is now a config problem (exit 2) naming the key. An endpoint line longer than
// the cap was counted malformed once per 256 KiB read (and shifted the line numbers after it).
// `--endpoint DIR` was a bare EISDIR with exit 1. `endpoint parse` gave up ("cannot tell the
// format", exit 2, no event) on an osquery, esxcli or eslogger file whose first line was
// garbage, where the sensor reading the same file skipped the line and kept every event.
// An EVTX binary (or any file no reader recognises) given to --endpoint was read silently as
// "0 events, N malformed" with exit 0; it is now named in a warning. `endpoint parse` held a
// line of any length (readline): a file of 600 MB without a newline died with "RangeError:
// Invalid string length" and a stack trace; it now splits lines as the sensor's feed does.
// `config check /dev/zero` (or --config on an endless pipe) read without end before checking
// the size cap; it now stops one byte past the cap. An --alerts file in a missing directory
// was reported as a bare "ENOENT".

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfigText } from '../src/config/load';
import { LineFeed, MAX_LINE_BYTES } from '../src/endpoint/line-feed';
import { PCAPS, REPO, runCli } from './helpers/cli';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-attack-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
for (let i = 1; i < 8; i++) {
  const p = String.fromCharCode(96 + i);
  const q = String.fromCharCode(97 + i);
  laughs.push(`${q}: &${q} [${Array(9).fill(`*${p}`).join(', ')}]`);
}

const BAD: [string, string, RegExp][] = [
  ['alias bomb', laughs.join('\n') + '\n',
    /^bad\.yaml: not valid YAML: aliases expand to too many nodes/],
  ['list that contains itself', 'AllowedTools: &a [*a]\n',
    /^bad\.yaml:1: config key AllowedTools\[0\]: an alias refers to a node that contains it/],
  ['mapping that contains itself', 'ProtocolBaseline: &p { tcp/22: *p }\n',
    /^bad\.yaml:1: config key ProtocolBaseline\.tcp\/22: an alias refers to a node that/],
  ['infinite number', 'rules: {relay: {maxStartGapSec: .inf}}\n',
    /config key rules\.relay\.maxStartGapSec: value Infinity must be a finite number/],
  ['overflowing number', 'flowTable: {closedTimeoutSec: 1e999}\n',
    /config key flowTable\.closedTimeoutSec: value Infinity must be a finite number/],
  ['not a number', 'TimeWindow: .nan\n',
    /config key TimeWindow: value NaN must be a finite number/],
];

t.test('hostile YAML is a config problem, not an internal error', async (t) => {
  for (const [kind, text, re] of BAD) {
    t.throws(() => parseConfigText(text, 'bad.yaml'), { code: 'ERR_CONFIG', message: re }, kind);
  }
});

t.test('alias bomb and alias cycle through the CLI: exit 2, one line, no stack', async (t) => {
  for (const [name, text] of [['bomb.yaml', laughs.join('\n') + '\n'],
    ['cycle.yaml', 'AllowedTools: &a [*a]\n']]) {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    const r = await runCli(['config', 'check', file]);
    t.equal(r.code, 2, `${name}: exit 2`);
    t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.notMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  }
});

t.test('an over-long endpoint line spanning many chunks is one malformed line', async (t) => {
  const got: number[] = [];
  const bad: number[] = [];
  const f = new LineFeed((e) => got.push(e.event.line ?? -1), (n) => bad.push(n));
  for (let i = 0; i < 10; i++) f.write('A'.repeat(MAX_LINE_BYTES));
  f.write('end of the long line\n');
  f.write('type=SYSCALL msg=audit(1000.000:1): arch=c000003e syscall=42 success=no exit=-115 ' +
    'a0=3 ppid=1 pid=42 auid=0 uid=0 gid=0 comm="ssh" exe="/usr/bin/ssh" key=(null)\n' +
    'type=SOCKADDR msg=audit(1000.000:1): saddr=020001BB0A4D00020000000000000000\n' +
    'type=EOE msg=audit(1000.000:1):\n');
  f.end();
  t.same(bad, [1], 'one malformed line, line 1');
  t.equal(f.counts.malformed, 1);
  t.equal(f.counts.events, 1);
  t.same(got, [2], 'the next record keeps its line number');
});

t.test('replay --endpoint with a long line: the summary counts it once', async (t) => {
  const log = path.join(tmp, 'long.audit.log');
  fs.writeFileSync(log, 'A'.repeat(2 * 1024 * 1024) + '\n' +
    fs.readFileSync(path.join(PCAPS, 'ssh-reverse-443.audit.log'), 'utf8'));
  const r = await runCli(['replay', '--workers', '0', path.join(PCAPS, 'ssh-reverse-443.pcap'),
    '--endpoint', log]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /endpoint: 112 events, 1 malformed, 1 flows matched/);
});

t.test('--endpoint naming a directory: exit 2, names the option, the file and why', async (t) => {
  const r = await runCli(['replay', path.join(PCAPS, 'ssh-22.pcap'), '--endpoint', tmp]);
  t.equal(r.code, 2);
  t.match(r.stderr, /^tunnelhound: --endpoint .*th-attack-\w+: cannot read the file \(is a directory\)\n$/);
  const m = await runCli(['replay', path.join(PCAPS, 'ssh-22.pcap'), '--endpoint',
    path.join(tmp, 'nope.log')]);
  t.equal(m.code, 2);
  t.match(m.stderr, /nope\.log: cannot read the file \(no such file\)/);
});

t.test('endpoint parse: a garbage first line loses no event, as in the sensor', async (t) => {
  const fixtures = path.join(REPO, 'test/fixtures/endpoint');
  for (const [name, format] of [['osquery-linux.handmade.log', 'osquery'],
    ['esxcli-connection-list.handmade.txt', 'esxcli']]) {
    const clean = await runCli(['endpoint', 'parse', path.join(fixtures, name)]);
    t.equal(clean.code, 0, clean.stderr);
    const file = path.join(tmp, `garbage-${name}`);
    fs.writeFileSync(file, 'GARBAGE \u0000\u00ff not an event\n' +
      fs.readFileSync(path.join(fixtures, name), 'utf8'));
    const r = await runCli(['endpoint', 'parse', file]);
    t.equal(r.code, 0, r.stderr);
    const events = (x: string): number => x.split('\n').filter((l) => l !== '').length;
    t.equal(events(r.stdout), events(clean.stdout), `${name}: every event kept`);
    t.match(r.stderr, new RegExp(`format=${format} events=${events(clean.stdout)} malformed=1 `));
  }
});

t.test('an EVTX binary as endpoint input is named, not silently empty', async (t) => {
  const evtx = path.join(tmp, 'Sysmon.evtx');
  fs.writeFileSync(evtx, Buffer.concat([Buffer.from('ElfFile\0', 'latin1'),
    Buffer.alloc(4096, 0x41), Buffer.from('\n\u0001\u0002 binary chunk\n')]));
  const p = await runCli(['endpoint', 'parse', evtx]);
  t.equal(p.code, 2);
  t.match(p.stderr, /Sysmon\.evtx is a Windows EVTX binary; render it as XML first/);
  const r = await runCli(['replay', '--workers', '0', path.join(PCAPS, 'ssh-22.pcap'),
    '--endpoint', evtx]);
  t.equal(r.code, 0, 'malformed input is never fatal');
  t.match(r.stderr, /"msg":"endpoint file is an EVTX binary: render it as XML first/);
  const junk = path.join(tmp, 'junk.log');
  fs.writeFileSync(junk, 'not an event\nnor this\n');
  const j = await runCli(['replay', '--workers', '0', path.join(PCAPS, 'ssh-22.pcap'),
    '--endpoint', junk]);
  t.match(j.stderr, /"msg":"no endpoint format recognised in the file; no event read/);
  t.match(j.stderr, /endpoint: 0 events, 2 malformed/);
});

t.test('endpoint parse splits and caps lines as the sensor does', async (t) => {
  const audit = fs.readFileSync(path.join(PCAPS, 'ssh-reverse-443.audit.log'), 'utf8');
  const file = path.join(tmp, 'capped.log');
  // a lone CR is no line break; an over-long line is one malformed line, also at the end
  fs.writeFileSync(file, 'junk\rmore junk\n' + 'B'.repeat(3 * MAX_LINE_BYTES) + '\n' + audit +
    'C'.repeat(20 * MAX_LINE_BYTES));
  const p = await runCli(['endpoint', 'parse', file]);
  t.equal(p.code, 0, p.stderr);
  t.notMatch(p.stderr, /\n\s+at /, 'no stack trace');
  const lines = audit.split('\n').length - 1;
  t.match(p.stderr, new RegExp(`format=auditd events=112 malformed=3 lines=${lines + 3}\\n$`));
  const r = await runCli(['replay', '--workers', '0', path.join(PCAPS, 'ssh-reverse-443.pcap'),
    '--endpoint', file]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /endpoint: 112 events, 3 malformed/, 'the sensor counts the same');
});

t.test('a config that never ends is refused at the size cap, not read forever', async (t) => {
  const start = Date.now();
  const r = await runCli(['config', 'check', '/dev/zero'], 20_000);
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr,
    /^tunnelhound: config \/dev\/zero is larger than a config file can be \(1048576 bytes\)\n$/);
  t.ok(Date.now() - start < 15_000, 'promptly');
  const r2 = await runCli(['replay', '--config', '/dev/zero', path.join(PCAPS, 'ssh-22.pcap')],
    20_000);
  t.equal(r2.code, 2, r2.stderr);
});

t.test('an alerts file in a directory that does not exist says so in words', async (t) => {
  const r = await runCli(['replay', '--alerts', path.join(tmp, 'no-such-dir', 'a.ndjson'),
    path.join(PCAPS, 'ssh-22.pcap')]);
  t.equal(r.code, 1);
  t.match(r.stderr,
    /cannot write alerts to .*no-such-dir.*: its directory does not exist \(ENOENT\)/);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
