// The tls_no_sni_dynamic_port signal on real captures: UltraSurf from the public corpus
// (ndpi__ultrasurf: two SNI-less TLS 1.3 sessions to 65.49.68.25:50053 and one flow of the
// same tool picked up mid-stream), the config keys that quiet it, and the benign corpus.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CORPUS, REPO, parseNdjson, runCli } from './helpers/cli';

type Doc = Record<string, any>;
const ULTRASURF = 'ndpi__ultrasurf.pcap';
const DETECTION = 'tls_no_sni_dynamic_port';
const have = fs.existsSync(path.join(CORPUS, ULTRASURF));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-nosni-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function alertsOf(files: string[], config?: object): Promise<Doc[]> {
  const args = ['replay', '--workers', '0', '--no-progress'];
  if (config !== undefined) {
    const file = path.join(tmp, `c${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const r = await runCli([...args, ...files.map((f) => path.join(CORPUS, f))]);
  if (r.code !== 0) throw new Error(r.stderr);
  return parseNdjson(r.stdout);
}

const ours = (alerts: Doc[]) =>
  alerts.filter((a) => a.tunnelhound.detections.includes(DETECTION));

t.test('UltraSurf: TLS without SNI to a public address on a dynamic port', { skip: !have },
  async (t) => {
    const [a, ...more] = ours(await alertsOf([ULTRASURF]));
    t.same(more, [], 'one alert for the host pair');
    t.equal(a.rule.id, 'AN1484');
    t.equal(a.destination.ip, '65.49.68.25');
    t.equal(a.destination.port, 50053);
    t.equal(a.tunnelhound.severity_label, 'medium');
    const ev = Object.fromEntries(a.tunnelhound.evidence.map((e: Doc) => [e.signal, e]));
    for (const e of a.tunnelhound.evidence) {
      t.ok(e.config_key && e.value !== undefined && e.threshold !== undefined, e.signal);
    }
    t.equal(ev.tls_sni_absent.value, 'tcp/50053');
    t.equal(ev.tls_sni_absent.config_key, 'ProtocolBaseline');
    t.match(ev.tls_sni_absent.detail, /ALPN h2,http\/1\.1/, 'a browser-like ClientHello');
    t.equal(ev.tls_server_external.config_key, 'networks.internal');
    t.ok(ev.carried_bytes.value > 10_000, 'a session went through, not a handshake');
    t.equal(ev.carried_bytes.threshold, 512);
  });

t.test('only flows whose ClientHello was seen are judged', { skip: !have }, async (t) => {
  // Without host-pair folding each flow speaks for itself: both handshakes alert, the flow
  // picked up mid-stream (first packet server->client, no ClientHello) does not.
  const alerts = ours(await alertsOf([ULTRASURF], { suppression: { perHostPair: false } }));
  t.same(alerts.map((a) => a.source.port).sort(), [38120, 38152]);
});

t.test('the config keys that quiet it', { skip: !have }, async (t) => {
  t.same(ours(await alertsOf([ULTRASURF], { rules: { tlsNoSni: { enabled: false } } })), [],
    'disabled');
  t.same(ours(await alertsOf([ULTRASURF], { ProtocolBaseline: { 'tcp/50053': ['tls'] } })),
    [], 'TLS expected on the port');
  t.same(ours(await alertsOf([ULTRASURF], { networks: { internal: ['65.49.68.0/24'] } })),
    [], 'a server of our own');
  t.same(ours(await alertsOf([ULTRASURF], { rules: { tlsNoSni: { minCarriedBytes: 100_000 } } })),
    [], 'too little carried for the raised threshold');
});

t.test('benign corpus: no SNI-less TLS to a dynamic port', async (t) => {
  const manifest = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const cols = manifest[0].split('\t');
  // Captures whose label the eval corrects (eval/corpus-relabels.tsv) are not benign.
  const relabelled = fs.readFileSync(path.join(REPO, 'eval/corpus-relabels.tsv'), 'utf8')
    .split('\n').filter((l) => l.length > 0 && !l.startsWith('#')).map((l) => l.split('\t')[0]);
  const benign = [...new Set(manifest.slice(1).map((l) => l.split('\t'))
    .filter((c) => c[cols.indexOf('tunnel')] === 'none').map((c) => c[cols.indexOf('file')]))]
    .filter((f) => fs.existsSync(path.join(CORPUS, f)) && !relabelled.includes(f));
  t.ok(benign.length > 50, `${benign.length} benign captures`);
  const hits = ours(await alertsOf(benign));
  t.same(hits.map((a) => `${a.source.ip} ${a.destination.ip}:${a.destination.port}`), []);
});
