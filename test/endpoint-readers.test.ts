// Endpoint readers on every text sample of the shared endpoint corpus (and the hand-made
// osquery/esxcli samples in test/fixtures/endpoint): the format is detected, at least one
// event comes out, nothing is malformed, and chosen events are pinned field by field
// against the values read off the source records by hand.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { EndpointEvent } from '../src/endpoint/event';
import { knownFormats, parseEndpointText } from '../src/endpoint/readers/index';

function repoRoot(start: string): string {
  for (let dir = start; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${start}`);
}

const ROOT = repoRoot(__dirname);
const CORPUS = path.resolve(ROOT, '../shared/corpus/endpoint');
const FIXTURES = path.join(ROOT, 'test/fixtures/endpoint');

/** file -> [detected format, event count]; counts are what the mapping yields today. */
const EXPECTED: Record<string, [string, number]> = {
  'crossplatform/ecs-json/elastic-defend_endpoint.events.network_sample_event.json': ['ecs', 1],
  'esxi/elastic-integrations_vsphere_test-format-common_esxi-lines.log': ['esxi', 2],
  'linux/auditd-ecs/elastic-integrations_auditd_test-coalesced-network-events.json': ['ecs', 1],
  'linux/auditd-ecs/golibaudit_ubuntu-16.10-linux-4.8.0.coalesced.json': ['ecs', 7],
  'linux/auditd-ecs/golibaudit_ubuntu-17.04-linux-4.10.0.coalesced.json': ['ecs', 3],
  'macos/eslogger/mullvad_eslogger_exit-exec-v9_fork-v10.jsonl': ['eslogger', 3],
  'windows/ecs-json/winlogbeat_sysmon-12-processcreate.ingest.golden.json': ['ecs', 1],
  'windows/evtx-json/sigma_regression_curl_insecure_proxy_or_doh_sysmon1.json': ['evtx-json', 1],
  'windows/ocsf/ocsfex_4688_0.raw.event': ['winevent-text', 1],
  'windows/ocsf/ocsfex_4688_process_activity.ocsf.json': ['ocsf', 1],
  'windows/openssh-xml/mdecrevoisier_ID4-OpenSSH_server_listening.xml': ['winsec-xml', 6],
  'windows/security-xml/eas_DE_RDP_Tunneling_4624.xml': ['winsec-xml', 5],
  'windows/security-xml/eas_DE_RDP_Tunneling_TS-RCM_1149.xml': ['winsec-xml', 11],
  'windows/security-xml/eas_dicovery_4661_net_group_domain_admins_target_5156-benign.xml': [
    'winsec-xml',
    32,
  ],
  'windows/security-xml/mdecrevoisier_ID4688-netsh_RDP_port_forwarding_abuse.xml': [
    'winsec-xml',
    4,
  ],
  'windows/sysmon-xml/eas_DE_sysmon-3-rdp-tun.xml': ['sysmon-xml', 67],
  'windows/sysmon-xml/eas_de_portforward_netsh_rdp_sysmon_13_1.xml': ['sysmon-xml', 3],
  'windows/sysmon-xml/ocsfex_sysmon_benign_baseline.xml': ['sysmon-xml', 229],
  'fixtures:osquery-linux.handmade.log': ['osquery', 8],
  'fixtures:osquery-macos.handmade.log': ['osquery', 2],
  'fixtures:esxcli-connection-list.handmade.txt': ['esxcli', 7],
};

/** Raw audit.log is read by the auditd reader (epjoin's); checked once it is registered. */
const AUDITD_RAW = /^linux\/auditd\//;

function fileOf(name: string): string {
  return name.startsWith('fixtures:')
    ? path.join(FIXTURES, name.slice('fixtures:'.length))
    : path.join(CORPUS, name);
}

const cache = new Map<string, ReturnType<typeof parseEndpointText>>();
function parsed(name: string) {
  if (!cache.has(name)) cache.set(name, parseEndpointText(fs.readFileSync(fileOf(name), 'utf8')));
  return cache.get(name)!;
}

function find(name: string, pred: (e: EndpointEvent) => boolean): EndpointEvent | undefined {
  return parsed(name).events.find(pred);
}

t.test('every non-.evtx corpus file is covered by this test', async (t) => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('.evtx') && e.name !== 'MANIFEST.tsv') files.push(p);
    }
  };
  walk(CORPUS);
  for (const f of files) {
    const rel = path.relative(CORPUS, f);
    if (AUDITD_RAW.test(rel)) continue;
    t.ok(EXPECTED[rel], `${rel} has an expectation`);
  }
});

t.test('format detection, event counts, no malformed input', async (t) => {
  for (const [name, [format, count]] of Object.entries(EXPECTED)) {
    const r = parsed(name);
    t.equal(r.format, format, `${name} format`);
    t.equal(r.events.length, count, `${name} events`);
    t.equal(r.malformed, 0, `${name} malformed`);
    for (const ev of r.events) {
      if (!(ev.ts > 0 && ev['@timestamp'].endsWith('Z'))) t.fail(`${name} bad time ${ev.ts}`);
    }
  }
});

t.test('raw auditd samples once the auditd reader is registered', async (t) => {
  if (!knownFormats().includes('auditd')) {
    t.pass('auditd reader not registered in this build (epjoin helper writes it)');
    return;
  }
  for (const f of fs.readdirSync(path.join(CORPUS, 'linux/auditd'))) {
    const r = parseEndpointText(fs.readFileSync(path.join(CORPUS, 'linux/auditd', f), 'utf8'));
    t.equal(r.format, 'auditd', f);
    // The RHEL 7 file is a catalogue of one record per type: its events are the lone
    // EXECVE records (test/endpoint-auditd.test.ts).
    t.ok(r.events.length > 0, `${f} events`);
  }
});

/**
 * test/fixtures/endpoint/pinned-events.json: {file, pick: a string that picks the event out
 * of its JSON, event: the whole expected event}. Values checked against the source records:
 * e.g. plink's Sysmon 3 10.0.2.17:49185 -> 10.0.2.18:80, TermService (pid 1276) listed
 * local-first for the loopback RDP leg, 4624's hex ProcessId 0x658 = 1624 with LogonType 10
 * from 127.0.0.1:49164, 5156 %%14592 inbound for lsass:389, eslogger v10 audit_token arrays.
 */
const PINNED: { file: string; pick: string; event: Record<string, unknown> }[] = JSON.parse(
  fs.readFileSync(path.join(FIXTURES, 'pinned-events.json'), 'utf8'),
);

t.test('pinned mappings, every field', async (t) => {
  t.equal(PINNED.length, 31);
  for (const { file: name, pick: needle, event: expected } of PINNED) {
    const ev = find(name, (e) => JSON.stringify(e).includes(needle));
    if (!ev) {
      t.fail(`${name}: no event with ${needle}`);
      continue;
    }
    if (name.includes('esxcli')) {
      // esxcli output has no time: the reader stamps the moment it read the snapshot.
      const { ts, '@timestamp': iso, ...rest } = ev;
      const { ts: _t, '@timestamp': _i, ...want } = expected;
      t.ok(Math.abs(ts - Date.now() / 1000) < 600 && iso.endsWith('Z'), 'esxcli read time');
      t.same(rest, want, `${name} ${needle}`);
    } else {
      t.same(ev, expected, `${name} ${needle}`);
    }
  }
});
