// The config file as a user meets it: through the real CLI (`config check`, `replay
// --config`), each kind of mistake gives exit 2 and a line naming the file, line, key path,
// value and rule; the printed defaults and the shipped sample pass; reload keeps or swaps.

import t from 'tap';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { ConfigError, configFrom, parseConfigText } from '../src/config/load';
import { reloadConfig } from '../src/cli/reload';
import { Sensor } from '../src/cli/sensor';
import { BIN, CliResult, PCAPS, REPO, runCli } from './helpers/cli';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-config-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const capture = path.join(PCAPS, 'ssh-22.pcap');

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

function runWithInput(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin!.end(input);
  });
}

// One file per kind of mistake: [name, text, what stderr must say]. The kinds the issue names
// run through both commands of the real CLI; the rest are checked in process (each CLI run
// costs seconds on the shared machine).
const BAD_CLI: [string, string, RegExp][] = [
  ['unknown top-level key', 'PayloadEntropyThreshold: 7\nDataAsymetryThreshold: 5\n',
    /bad\.yaml:2: config key DataAsymetryThreshold: unknown key \(did you mean DataAsymmetry/],
  ['unknown nested key', 'rules:\n  cleartextEntropy:\n    enabled: true\n    minSample: 300\n',
    /bad\.yaml:4: config key rules\.cleartextEntropy\.minSample: unknown key \(did you mean min/],
  ['wrong type', 'TimeWindow: five minutes\n',
    /bad\.yaml:1: config key TimeWindow: value "five minutes" must be a number/],
  ['threshold out of range', 'PayloadEntropyThreshold: 9.5\n',
    /config key PayloadEntropyThreshold: value 9\.5 must be <= 8/],
  ['malformed CIDR', 'networks:\n  internal:\n    - 10.0.0.0/8\n    - 10.300.0.0/16\n',
    /bad\.yaml:4: config key networks\.internal\[1\]: value "10\.300\.0\.0\/16" must be an IPv4/],
  ['unknown ESXi profile', 'assets:\n  esxiManagement:\n    - {address: 10.0.0.5, profile: mgmt}\n',
    /bad\.yaml:3: config key assets\.esxiManagement\[0\]\.profile: value "mgmt" must name an /],
];

const BAD_IN_PROCESS: [string, string, RegExp][] = [
  ['wrong type (YAML 1.2: yes is a string)', 'suppression: {perHostPair: yes}\n',
    /config key suppression\.perHostPair: value "yes" must be true or false/],
  ['asymmetry threshold of 1 fires on every flow', 'DataAsymmetryThreshold: 1\n',
    /config key DataAsymmetryThreshold: value 1 must be > 1/],
  ['integer bound', 'flowTable: {capacity: 8}\n',
    /config key flowTable\.capacity: value 8 must be >= 16/],
  ['prefix too long', 'assets: {dnsResolvers: ["fd00::/129"]}\n',
    /config key assets\.dnsResolvers\[0\]: value "fd00::\/129" must be an IPv4 or IPv6/],
  ['prefix with a leading zero', 'networks: {internal: [10.0.0.0/8, 10.0.0.0/08]}\n',
    /config key networks\.internal\[1\]: value "10\.0\.0\.0\/08" must be an IPv4 or IPv6/],
  ['IPv6 zone id (flow addresses have none)', 'networks: {internal: ["fe80::%eth0/64"]}\n',
    /config key networks\.internal\[0\]: value "fe80::%eth0\/64" must be an IPv4 or IPv6/],
  ['bad DoH resolver name', 'ExpectedDoHResolvers: [dns.google, "-bad-.example"]\n',
    /config key ExpectedDoHResolvers\[1\]: value "-bad-\.example" must be an address, a CIDR/],
  ['baseline port key', 'ProtocolBaseline: {tcp/70000: [tls]}\n',
    /config key ProtocolBaseline\.tcp\/70000: key "tcp\/70000" must be .* with PORT 1-65535/],
  ['baseline protocol', 'ProtocolBaseline: {tcp/70: [gopher]}\n',
    /config key ProtocolBaseline\.tcp\/70\[0\]: value "gopher" must be one of ssh, tls/],
  ['allow-list entry matching everything', 'AllowedTools: [{action: suppress}]\n',
    /config key AllowedTools\[0\]: .* needs at least one of executable, name, sha256, user/],
  ['ESXi service port', 'ESXiServiceProfiles: {lab: {inbound: [{transport: tcp, port: 0}], ' +
    'outbound: []}}\n',
  /config key ESXiServiceProfiles\.lab\.inbound\[0\]\.port: value 0 must be >= 1/],
  ['empty string', 'AllowedTools: [{name: "", action: lower}]\n',
    /config key AllowedTools\[0\]\.name: value "" must have at least 1 character$/],
  ['string too long', `AllowedTools: [{name: ${'x'.repeat(300)}, action: lower}]\n`,
    /AllowedTools\[0\]\.name: value "x{59}\.\.\. must have at most 255 characters/],
  ['list too long', `ForwardingFlags: {ssh: [${Array(65).fill('-L').join(', ')}]}\n`,
    /config key ForwardingFlags\.ssh: value .* must have at most 64 entries/],
  ['hash', 'AllowedTools: [{sha256: abc, action: suppress}]\n',
    /config key AllowedTools\[0\]\.sha256: value "abc" must be 64 hex digits/],
  ['program name', 'ForwardingFlags: {"my tool": [-x]}\n',
    /config key ForwardingFlags\.my tool: key "my tool" must be a program name/],
  ['profile name', 'ESXiServiceProfiles: {"a/b": {inbound: [], outbound: []}}\n',
    /config key ESXiServiceProfiles\.a\/b: key "a\/b" must be a profile name/],
  ['string given for an integer', 'flowTable: {entropyPool: lots}\n',
    /config key flowTable\.entropyPool: value "lots" must be an integer/],
  ['not YAML', 'rules: [\n', /bad\.yaml:\d+:\d+: not valid YAML/],
  ['not a mapping', '- 1\n- 2\n', /config key \(top level\): value \[1,2\] must be a mapping/],
];

for (const [kind, text, re] of BAD_CLI) {
  t.test(`bad config, ${kind}: exit 2 from config check and replay`, async (t) => {
    const file = write('bad.yaml', text);
    for (const args of [['config', 'check', file], ['replay', '--config', file, capture]]) {
      const r = await runCli(args);
      t.equal(r.code, 2, `${args[0]}: exit 2`);
      t.match(r.stderr, re, args[0]);
      t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
      t.equal(r.stdout, '', 'nothing on standard output');
    }
  });
}

t.test('more kinds of mistake, each named', async (t) => {
  for (const [kind, text, re] of BAD_IN_PROCESS) {
    t.throws(() => parseConfigText(text, 'bad.yaml'), { code: 'ERR_CONFIG', message: re }, kind);
  }
});

t.test('several problems are all listed, in file order', async (t) => {
  const file = write('many.yaml', 'TimeWindow: 0\nrules:\n  doh: {enabled: 1}\nbogus: 1\n');
  const r = await runCli(['config', 'check', file]);
  t.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 3, r.stderr);
  t.match(lines[0], /many\.yaml:1: config key TimeWindow: value 0 must be > 0/);
  t.match(lines[1], /many\.yaml:3: config key rules\.doh\.enabled: value 1 must be true or false/);
  t.match(lines[2], /many\.yaml:4: config key bogus: unknown key \(known here: flowTable, /);
});

t.test('config defaults round-trips through config check', async (t) => {
  const d = await runCli(['config', 'defaults']);
  t.equal(d.code, 0, d.stderr);
  // Every top-level key is printed, each with its documentation above it.
  for (const key of Object.keys(DEFAULT_CONFIG)) {
    t.match(d.stdout, new RegExp(`# [^\\n]+\\n${key}:`), `${key} documented`);
  }
  t.match(d.stdout,
    /# Corrected payload entropy in bits\/byte[^]*\nPayloadEntropyThreshold: 7\.2\n/);
  t.ok(d.stdout.split('\n').every((l) => l.length <= 100), 'lines within 100 columns');
  const c = await runWithInput(['config', 'check', '-'], d.stdout);
  t.equal(c.code, 0, c.stderr);
  t.equal(c.stdout, '(stdin): valid, all defaults\n');
  t.same(parseConfigText(d.stdout, 'defaults'), DEFAULT_CONFIG, 'reads back as the defaults');
});

function missingKeys(def: unknown, raw: unknown, at = ''): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(def) || !isObj(raw)) return [];
  return Object.keys(def).flatMap((k) => (k in raw
    ? missingKeys(def[k], raw[k], `${at}${k}.`) : [`${at}${k}`]));
}

t.test('good files: the lab config, the deploy sample, JSON', async (t) => {
  const lab = await runCli(['config', 'check', path.join(PCAPS, 'lab.yaml')]);
  t.equal(lab.code, 0, lab.stderr);
  t.match(lab.stdout,
    new RegExp('lab\\.yaml: valid, 3 keys differ from the defaults: networks\\.internal, ' +
      'assets\\.esxiManagement, assets\\.dnsResolvers'));
  const sample = await runCli(['config', 'check', path.join(REPO, 'deploy/tunnelhound.yaml')]);
  t.equal(sample.code, 0, sample.stderr);
  t.match(sample.stdout, /valid, \d+ keys differ from the defaults: .*networks\.internal/);
  // The sample spells out every key, so a key added to the defaults must be added there too.
  const raw = parseYaml(fs.readFileSync(path.join(REPO, 'deploy/tunnelhound.yaml'), 'utf8'));
  t.same(missingKeys(DEFAULT_CONFIG, raw), [], 'the sample lists every default key');
  const json = write('c.json', JSON.stringify({ PayloadEntropyThreshold: 6.5 }));
  const j = await runCli(['config', 'check', json]);
  t.equal(j.stdout,
    `${json}: valid, 1 key differs from the defaults: PayloadEntropyThreshold\n`);
  const huge = write('huge.yaml', `# ${'x'.repeat(1024 * 1024)}\n`);
  const h = await runCli(['config', 'check', huge]);
  t.equal(h.code, 2);
  t.match(h.stderr, /huge\.yaml is 1048579 bytes, more than a config file can be \(1048576\)/);
  const missing = await runCli(['config', 'check', path.join(tmp, 'nope.yaml')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read config .*nope\.yaml: ENOENT/);
});

t.test('a file merges over the defaults: mappings by key, lists replaced', async (t) => {
  const cfg = parseConfigText([
    'ForwardingFlags: {ssh: [-L]}',
    'networks: {internal: [192.0.2.0/24]}',
    'ESXiServiceProfiles:',
    '  locked: {inbound: [{transport: tcp, port: 443, peers: [10.0.0.0/24]}], outbound: []}',
    'assets: {esxiManagement: [{address: 10.9.0.0/24, profile: locked}]}',
    'rules: {relay: {enabled: false, severity: low}}',
  ].join('\n'), 'merge.yaml');
  t.same(cfg.ForwardingFlags.ssh, ['-L'], 'a list replaces the default list');
  t.same(cfg.ForwardingFlags.plink, ['-L', '-R', '-D'], 'other programs keep their defaults');
  t.same(cfg.networks.internal, ['192.0.2.0/24']);
  t.ok(cfg.ESXiServiceProfiles.management, 'the default profile stays beside the new one');
  t.equal(cfg.ESXiServiceProfiles.locked.inbound[0].peers?.[0], '10.0.0.0/24');
  t.same(cfg.rules.relay, { ...DEFAULT_CONFIG.rules.relay, enabled: false, severity: 'low' },
    'a rule keeps its other thresholds');
  t.same(cfg.rules.doh, { enabled: true, maxDnsRecordBytes: 600, minShapePairs: 6,
    alertOnPublicResolvers: false, longPollWaitSec: 1, longPollFollowSec: 0.05,
    longPollMinCycles: 2 },
    'a rule the file does not name keeps every default');
  t.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.networks.internal), 'deeply frozen');
  t.same(DEFAULT_CONFIG.ForwardingFlags.ssh, ['-L', '-R', '-D', '-w'], 'defaults untouched');
  t.throws(() => configFrom({ ['__proto__']: { DataAsymmetryThreshold: 0 } }),
    /config key __proto__: unknown key/, 'a __proto__ key is a key, not a prototype');
  t.throws(() => parseConfigText('a: 1\na: 2\n', 'dup.yaml'),
    { name: 'ConfigError', code: 'ERR_CONFIG',
      message: /dup\.yaml:2:1: not valid YAML: Map keys must be unique/ });
});

/** A pino logger whose records land in an array. */
function memoryLog(): { log: pino.Logger; records: Array<Record<string, any>> } {
  const records: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      records.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), records };
}

const tick = () => new Promise((r) => setImmediate(r));

t.test('reload: a good file takes effect, a bad one keeps the running config', async (t) => {
  const file = write('live.yaml', 'PayloadEntropyThreshold: 7.9\n');
  const sensor = new Sensor({ config: configFrom({ PayloadEntropyThreshold: 7.9 }), workers: 0 });
  t.teardown(() => sensor.finish());
  const { log, records } = memoryLog();

  t.ok(reloadConfig(file, sensor, log), 'same file again: valid');
  await tick();
  t.equal(records.at(-1)?.msg, 'config unchanged');

  fs.writeFileSync(file, 'PayloadEntropyThreshold: 6.5\nflowTable: {capacity: 1024}\n');
  t.ok(reloadConfig(file, sensor, log));
  await tick();
  t.equal(sensor.config.PayloadEntropyThreshold, 6.5, 'new threshold in effect');
  t.equal(sensor.config.flowTable.capacity, DEFAULT_CONFIG.flowTable.capacity,
    'flow table sizing kept');
  t.ok(records.some((r) => r.key === 'flowTable.capacity' && /ignored until restart/.test(r.msg)));
  t.same(records.at(-1)?.changed, ['PayloadEntropyThreshold']);

  fs.writeFileSync(file, 'PayloadEntropyThreshold: 80\n');
  t.notOk(reloadConfig(file, sensor, log), 'bad file refused');
  await tick();
  t.equal(sensor.config.PayloadEntropyThreshold, 6.5, 'running config kept');
  const failed = records.at(-1)!;
  t.equal(failed.msg, 'config reload failed, running config kept');
  t.match(failed.problems[0],
    /live\.yaml:1: config key PayloadEntropyThreshold: value 80 must be <= 8/);

  fs.rmSync(file);
  t.notOk(reloadConfig(file, sensor, log), 'a vanished file is refused too');
  t.equal(sensor.config.PayloadEntropyThreshold, 6.5);
});

t.test('ConfigError keeps one line per problem', async (t) => {
  const e = new ConfigError(['a', 'b']);
  t.same(e.problems, ['a', 'b']);
  t.equal(e.message, 'a\nb');
});
