// DoH, DNS-tunnel and ESXi-profile signals on real captures: our lab captures
// (scripts/scenarios/dns.sh) with the lab's network context (pcaps/lab.yaml), the labelled
// DNS-tunnel captures of the public corpus, and the benign corpus, through the real CLI.

import t, { Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CORPUS, PCAPS, REPO, parseNdjson, runCli } from './helpers/cli';
import { LAB_YAML_PATTERNS, labYaml, writeLabConfig } from './helpers/lab-config';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-dns-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const labConfig = writeLabConfig(tmp);
for (const re of LAB_YAML_PATTERNS) t.match(labYaml(), re, 'lab.yaml agrees with LAB_CONFIG');

type Doc = Record<string, any>;
const OURS = ['dns_tunnel', 'doh_unexpected_resolver', 'doh_tunnel', 'esxi_profile_violation'];

async function alertsOf(file: string | string[], config?: string): Promise<Doc[]> {
  const r = await runCli(['replay', '--workers', '0', ...(config ? ['--config', config] : []),
    ...(Array.isArray(file) ? file : [file])]);
  if (r.code !== 0) throw new Error(r.stderr);
  return parseNdjson(r.stdout);
}

function checkEvidence(t: Test, a: Doc): void {
  for (const ev of a.tunnelhound.evidence) {
    t.ok(typeof ev.config_key === 'string' && ev.config_key.length > 0, 'evidence names a key');
    t.not(ev.value, undefined, 'evidence has the measured value');
    t.not(ev.threshold, undefined, 'evidence has the threshold');
  }
}

interface Label {
  name: string;
  file: string;
  tunnel: boolean;
  expected: { alerts: Array<{ analytic?: string; detection?: string; server_port: number }> };
}

for (const name of ['dns-tunnel-iodine', 'doh-workstation-443', 'doh-esxi-443', 'dns-busy-53',
  'dns-53']) {
  t.test(`lab capture ${name}`, async (t) => {
    const label = JSON.parse(fs.readFileSync(path.join(PCAPS, `${name}.json`), 'utf8')) as Label;
    const alerts = await alertsOf(path.join(PCAPS, label.file), labConfig);
    if (!label.tunnel) t.same(alerts.map((a) => a.tunnelhound.detection), [], 'benign: none');
    for (const want of label.expected.alerts) {
      // One alert per flow and analytic: its `detections` lists every signal that fired.
      const hit = alerts.find((a) => a.tunnelhound.detections.includes(want.detection) &&
        a.rule.id === want.analytic && a.destination.port === want.server_port);
      t.ok(hit, `${want.analytic} ${want.detection} on port ${want.server_port}`);
      if (hit) checkEvidence(t, hit);
    }
    const analytics = new Set(alerts.map((a) => a.rule.id));
    if (name === 'doh-esxi-443') t.same([...analytics], ['AN1486'], 'ESXi: only AN1486');
    if (name === 'doh-workstation-443') {
      t.ok(alerts.every((a) => a.tunnelhound.severity_label === 'medium'),
        'plain DNS from the same host raises DoH to medium');
    }
  });
}

t.test('iodine: the evidence states the measured values and thresholds', async (t) => {
  const [a] = await alertsOf(path.join(PCAPS, 'dns-tunnel-iodine.pcap'));
  t.equal(a.rule.id, 'AN1485');
  const ev = Object.fromEntries(a.tunnelhound.evidence.map((e: Doc) => [e.signal, e]));
  t.ok(ev.dns_distinct_names.value >= 50, 'dozens of distinct names');
  t.equal(ev.dns_distinct_names.threshold, 10);
  t.equal(ev.dns_distinct_names.config_key, 'rules.dnsTunnel.minDistinctNames');
  t.ok(ev.dns_mean_subdomain_bytes.value > 100, 'iodine fills its names');
  t.equal(ev.dns_record_types.value, 1, 'every question is NULL');
});

t.test('a raised threshold silences the tunnel; a disabled rule too', async (t) => {
  const high = path.join(tmp, 'high.json');
  fs.writeFileSync(high, JSON.stringify({ rules: { dnsTunnel: { minDistinctNames: 5000,
    minEncodedSubdomainBytes: 255 } } }));
  t.same(await alertsOf(path.join(PCAPS, 'dns-tunnel-iodine.pcap'), high), []);
  const off = path.join(tmp, 'off.json');
  fs.writeFileSync(off, JSON.stringify({ rules: { doh: { enabled: false } } }));
  t.same(await alertsOf(path.join(PCAPS, 'doh-workstation-443.pcap'), off), []);
  const expected = path.join(tmp, 'expected.json');
  fs.writeFileSync(expected, JSON.stringify({ ExpectedDoHResolvers: ['doh.tunnelhound.test'] }));
  t.same(await alertsOf(path.join(PCAPS, 'doh-workstation-443.pcap'), expected), [],
    'a listed resolver (by SNI) is expected');
});

t.test('a bad ESXi profile name is a config error naming the key', async (t) => {
  const bad = path.join(tmp, 'bad.json');
  fs.writeFileSync(bad, JSON.stringify({
    assets: { esxiManagement: [{ address: '10.0.0.5', profile: 'mgmt' }] } }));
  const r = await runCli(['replay', '--config', bad, path.join(PCAPS, 'dns-53.pcap')]);
  t.equal(r.code, 2);
  t.match(r.stderr,
    /assets\.esxiManagement\[0\]\.profile: value "mgmt" must name an ESXiServiceProfiles entry/);
});

// The public corpus: MANIFEST.tsv column `tunnel`.
const manifest = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
const cols = manifest[0].split('\t');
const rows = [...new Map(manifest.slice(1).map((l) => l.split('\t'))
  .map((c) => [c[cols.indexOf('file')], c[cols.indexOf('tunnel')]] as const)).entries()]
  .filter(([f]) => fs.existsSync(path.join(CORPUS, f)));

// Captures whose MANIFEST label the eval corrects (eval/corpus-relabels.tsv, with the reason).
const RELABELLED = new Set(fs.readFileSync(path.join(REPO, 'eval/corpus-relabels.tsv'), 'utf8')
  .split('\n').filter((l) => l.length > 0 && !l.startsWith('#')).slice(1)
  .map((l) => l.split('\t')[0]));

/**
 * dns2tcp through the public resolver 1.1.1.1: its one TLS flow is told from ordinary DoH by
 * timing alone (doh_tunnel, src/signals/doh-long-poll.ts), judged in its own test below.
 */
const DOH_LONG_POLL = 'ndpi__dns2tcp_tunnel.pcap';

// DNS tunnels whose tunnel flow is plain DNS (for the DoH-carried ones in Korving's set, the
// DoH server's upstream queries to the tunnel server), plus the dnscat2 capture the eval
// relabels.
const DNS_TUNNELS = rows.filter(([f, tunnel]) => (/^dns-(tunnel|exfil)/.test(tunnel) ||
  RELABELLED.has(f)) && f !== DOH_LONG_POLL);
t.test('corpus DNS tunnels are detected', async (t) => {
  t.ok(DNS_TUNNELS.length >= 12, `${DNS_TUNNELS.length} labelled DNS-tunnel captures`);
  t.ok(DNS_TUNNELS.some(([f]) => f === 'ndpi__bad-dns-traffic.pcap'), 'the relabelled dnscat2');
  t.equal(DNS_TUNNELS.filter(([f]) => f.startsWith('korving-doh__')).length, 5,
    'the DNS tunnels carried in DoH through a private server');
  for (const [file] of DNS_TUNNELS) {
    const alerts = await alertsOf(path.join(CORPUS, file));
    const hit = alerts.find((a) => a.rule.id === 'AN1485' &&
      a.tunnelhound.detections.some((d: string) =>
        d === 'dns_tunnel' || d === 'doh_unexpected_resolver'));
    t.ok(hit, file);
    if (hit) checkEvidence(t, hit);
  }
});

t.test('ndpi__bad-dns-traffic: dns_tunnel fires on dnscat2 volume, not odd types',
  async (t) => {
  const [a, ...more] = await alertsOf([path.join(CORPUS, 'ndpi__bad-dns-traffic.pcap')]);
  t.same(more, [], 'one alert: the later flows of the same session fold into it');
  t.equal(a.tunnelhound.detection, 'dns_tunnel');
  t.match(a.rule.name, /skullseclabs\.org/, "dnscat2's default domain");
  const ev = Object.fromEntries(a.tunnelhound.evidence.map((e: Doc) => [e.signal, e]));
  t.ok(ev.dns_distinct_names.value >= 17, 'every query a new name');
  t.ok(ev.dns_mean_subdomain_bytes.value > 40, 'hex-encoded dnscat2 packets under the domain');
});

/**
 * Benign DoH captures: every resolver in them is a public service, well known or (for
 * dnscrypt-proxy's volunteer resolvers) named as DoH/DNS by its SNI on a public address.
 */
const PUBLIC_DOH = ['ndpi__doh.pcapng', 'ndpi__dns_doh.pcap', 'ndpi__no_sni.pcap',
  'ndpi__dnscrypt-v2-doh.pcap'];

t.test('benign corpus: no DNS-tunnel, DoH or ESXi alert', async (t) => {
  const benign = rows.filter(([f, tunnel]) => tunnel === 'none' && !RELABELLED.has(f))
    .map(([f]) => f);
  t.ok(benign.length > 50);
  for (const f of PUBLIC_DOH) t.ok(benign.includes(f), `${f} is among them`);
  // One run over all of them (the CLI takes many files); alerts are told apart by flow.
  const ours = (await alertsOf(benign.map((f) => path.join(CORPUS, f))))
    .filter((a) => a.tunnelhound.detections.some((d: string) => OURS.includes(d)));
  t.same(ours.map((a) => `${a.tunnelhound.detection} ${a.source.ip} ${a.destination.ip}`), [],
    `${benign.length} benign captures, DoH to public resolvers among them`);
});

t.test('dnscrypt-proxy: DoH-named public resolvers no list knows are public too', async (t) => {
  const file = path.join(CORPUS, 'ndpi__dnscrypt-v2-doh.pcap');
  t.same(await alertsOf(file), [], 'quiet by default, like the listed services');
  const on = path.join(tmp, 'dnscrypt-public-on.json');
  fs.writeFileSync(on, JSON.stringify({ rules: { doh: { alertOnPublicResolvers: true } } }));
  const alerts = await alertsOf(file, on);
  const byName = new Map(alerts.map((a) => [a.tls?.client?.server_name as string,
    a.tunnelhound.evidence.find((e: Doc) => e.signal === 'doh_public_resolver')]));
  t.equal(byName.size, 18, 'the switch brings back every resolver it used');
  t.ok(alerts.every((a) => a.tunnelhound.detections.join() === 'doh_unexpected_resolver' &&
    a.rule.id === 'AN1485' && a.tunnelhound.severity_label === 'low'), 'low AN1485 findings');
  for (const a of alerts) checkEvidence(t, a);
  for (const ev of byName.values()) {
    t.equal(ev?.config_key, 'rules.doh.alertOnPublicResolvers');
    t.equal(ev?.threshold, 'alert on public resolvers');
  }
  for (const named of ['doh.ffmuc.net', 'dns.digitale-gesellschaft.ch', 'doh.powerdns.org']) {
    t.equal(byName.get(named)?.value, named, `${named} is public by its SNI`);
    t.match(byName.get(named)?.detail, /outside networks\.internal/);
  }
  for (const known of ['odvr.nic.cz', 'doh.libredns.gr', 'dns.nextdns.io', 'dns10.quad9.net']) {
    t.match(byName.get(known)?.detail, /KNOWN_DOH_NAMES/, `${known} is on the list`);
  }
  t.equal(byName.get('dns.cloudflare.com')?.value, '1.0.0.1', 'listed by address');
});

t.test('a DoH-named server is public only outside networks.internal', async (t) => {
  // doh-workstation-443's resolver is 10.77.0.2: inside the lab's networks it alerts (the lab
  // capture test above); declared outside them it is a public, openly named DoH service.
  const outside = path.join(tmp, 'lab-not-internal.json');
  fs.writeFileSync(outside, JSON.stringify({ networks: { internal: ['192.168.0.0/16'] } }));
  const file = path.join(PCAPS, 'doh-workstation-443.pcap');
  t.same(await alertsOf(file, outside), [], 'public and named: quiet by default');
  const [a] = await alertsOf(file, labConfig);
  t.notOk(a.tunnelhound.evidence.some((e: Doc) => e.signal === 'doh_public_resolver'),
    'inside networks.internal it is nobody\'s public service');
});

t.test('rules.doh.alertOnPublicResolvers turns public-resolver DoH into alerts', async (t) => {
  const on = path.join(tmp, 'public-on.json');
  fs.writeFileSync(on, JSON.stringify({ rules: { doh: { alertOnPublicResolvers: true } } }));
  const [a, ...more] = await alertsOf(path.join(CORPUS, 'ndpi__doh.pcapng'), on);
  t.same(more, []);
  t.equal(a.rule.id, 'AN1485');
  t.equal(a.destination.ip, '1.1.1.1');
  const ev = Object.fromEntries(a.tunnelhound.evidence.map((e: Doc) => [e.signal, e]));
  t.equal(ev.doh_public_resolver.value, '1.1.1.1');
  t.equal(ev.doh_public_resolver.config_key, 'rules.doh.alertOnPublicResolvers');
  t.equal(ev.doh_public_resolver.threshold, 'alert on public resolvers');
  t.equal(ev.doh_shape_pairs.value, 8, 'requests answered, h2 control frames left out');
  const firefox = await alertsOf(path.join(CORPUS, 'ndpi__dns_doh.pcap'), on);
  t.same(firefox.map((d) => d.tunnelhound.evidence.find((e: Doc) =>
    e.signal === 'doh_public_resolver')?.value), ['cloudflare-dns.com'], 'by SNI');
});

t.test('dns2tcp through 1.1.1.1: the long poll makes it doh_tunnel, whatever the resolver',
  async (t) => {
  const file = path.join(CORPUS, DOH_LONG_POLL);
  const [a, ...more] = await alertsOf(file);
  t.same(more, [], 'one TLS flow, one alert');
  t.equal(a.rule.id, 'AN1485');
  t.same(a.tunnelhound.detections, ['doh_tunnel'], 'a public resolver, yet an alert');
  t.equal(a.tunnelhound.severity_label, 'high');
  t.equal(a.destination.ip, '1.1.1.1');
  checkEvidence(t, a);
  const ev = Object.fromEntries(a.tunnelhound.evidence.map((e: Doc) => [e.signal, e]));
  t.equal(ev.doh_long_poll_cycles.value, 3, 'three answers held 1.6-3.1 s, each re-asked at once');
  t.equal(ev.doh_long_poll_cycles.config_key, 'rules.doh.longPollMinCycles');
  t.equal(ev.doh_long_poll_wait.value, 1.584);
  t.equal(ev.doh_long_poll_wait.threshold, 1);
  // Listing the resolver as expected does not excuse a tunnel through it.
  const listed = path.join(tmp, 'dns2tcp-expected.json');
  fs.writeFileSync(listed, JSON.stringify({ ExpectedDoHResolvers: ['1.1.1.1'] }));
  t.same((await alertsOf(file, listed)).map((d) => d.tunnelhound.detection), ['doh_tunnel']);
  // Each threshold decides: a wait above all three measured (1.58, 3.09, 3.09 s), more
  // cycles than three, a re-ask faster than 0.5 ms.
  for (const [key, value] of [['longPollWaitSec', 3.2], ['longPollMinCycles', 4],
    ['longPollFollowSec', 0.0001]] as const) {
    const cfg = path.join(tmp, `dns2tcp-${key}.json`);
    fs.writeFileSync(cfg, JSON.stringify({ rules: { doh: { [key]: value } } }));
    const got = await alertsOf(file, cfg);
    t.notOk(got.some((d) => d.tunnelhound.detections.includes('doh_tunnel')), `${key} ${value}`);
  }
  // Below the long-poll bar it is DoH to a public resolver again: quiet by default.
  const high = path.join(tmp, 'dns2tcp-many-cycles.json');
  fs.writeFileSync(high, JSON.stringify({ rules: { doh: { longPollMinCycles: 4 } } }));
  t.same(await alertsOf(file, high), [], 'public DoH without the long poll');
});

t.test('DoH to a public resolver from an ESXi management address alerts anyway', async (t) => {
  const esxi = path.join(tmp, 'esxi-public.json');
  fs.writeFileSync(esxi, JSON.stringify({ assets: { esxiManagement: [
    { address: '192.168.1.253', profile: 'management' }] } }));
  const alerts = await alertsOf(path.join(CORPUS, 'ndpi__doh.pcapng'), esxi);
  const doh = alerts.find((a) => a.tunnelhound.detections.includes('doh_unexpected_resolver'));
  t.ok(doh, 'DoH to 1.1.1.1 from the management address');
  t.equal(doh?.rule.id, 'AN1486');
  t.equal(doh?.tunnelhound.severity_label, 'high');
  const ev = doh?.tunnelhound.evidence.find((e: Doc) => e.signal === 'doh_public_resolver');
  t.equal(ev?.threshold, 'public resolvers alert only from ESXi management addresses');
  t.ok(doh?.tunnelhound.detections.includes('esxi_profile_violation'),
    'and outbound 443 is outside the management profile');
  // dnscrypt-proxy's DoH-named volunteer resolvers are public too: from ESXi they alert.
  fs.writeFileSync(esxi, JSON.stringify({ assets: { esxiManagement: [
    { address: '10.0.0.1', profile: 'management' }] } }));
  const named = (await alertsOf(path.join(CORPUS, 'ndpi__dnscrypt-v2-doh.pcap'), esxi))
    .filter((a) => a.tls?.client?.server_name === 'doh.ffmuc.net');
  t.same(named.map((a) => `${a.rule.id} ${a.tunnelhound.severity_label}`), ['AN1486 high'],
    'doh.ffmuc.net from the management address');
});
