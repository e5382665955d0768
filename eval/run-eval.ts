// `npm run eval`: replays every labelled capture (our pcaps/ with their JSON labels, and the
// public corpus with MANIFEST.tsv's tunnel column) and prints, per scenario, what was expected
// and what tunnelhound raised, then recall over tunnel scenarios and false alarms per 1,000
// benign flows. Results also go to eval/out/results.json for notes and comparisons.
//
// Usage: node dist/eval/run-eval.js [--only SUBSTRING] [--jobs N]

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
const BIN = path.join(REPO, 'bin/tunnelhound.js');
const PCAPS = path.join(REPO, 'pcaps');
const CORPUS = path.resolve(REPO, '../shared/corpus/public');
const LAB_CONFIG = path.join(PCAPS, 'lab.yaml');

interface Expected {
  analytic: string;
  /** Acceptable detection names; empty = any under the analytic. */
  detections: string[];
  /** Our captures name the tunnel flow's server port; the alert must be on it. */
  serverPort?: number;
}

interface Scenario {
  source: 'pcaps' | 'public';
  name: string;
  file: string;
  tunnel: boolean;
  label: string;
  expected: Expected[];
  /** Why the scenario cannot be scored (no expectation set for its category). */
  unscored?: string;
  config?: string;
}

/**
 * One alert as the sensor wrote it. The verdict (src/analytics/verdict.ts) folds every
 * detection of a flow under one analytic into one alert: `tunnelhound.detection` names only
 * the highest-scoring one, `tunnelhound.detections` lists them all, so expectations are
 * matched against the whole list (doh-esxi-443 expects two detections on one flow).
 */
interface Alert {
  analytic: string;
  /** Primary first. */
  detections: string[];
  port: number;
  score: number;
}

interface Outcome {
  scenario: Scenario;
  exit: number;
  flows: number;
  alerts: Alert[];
  verdict: 'ok' | 'missed' | 'false-alarm' | 'unscored' | 'error';
  detail: string;
}

/** Old labels name a rule by hint; map them onto analytic and detection. */
const RULE_HINTS: Record<string, Expected> = {
  'protocol-port-mismatch': { analytic: 'AN1484', detections: ['protocol_port_mismatch'] },
  'high-entropy-cleartext-port': { analytic: 'AN1484', detections: ['cleartext_port_entropy'] },
  'ssh-asymmetric-long-lived': { analytic: 'AN1483', detections: [] },
};

function ourScenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const f of fs.readdirSync(PCAPS).filter((n) => n.endsWith('.json')).sort()) {
    const label = JSON.parse(fs.readFileSync(path.join(PCAPS, f), 'utf8'));
    if (typeof label.file !== 'string') continue;
    const expected: Expected[] = (label.expected?.alerts ?? []).map((a: any) => {
      const base = a.analytic !== undefined
        ? { analytic: a.analytic, detections: a.detection ? [a.detection] : [] }
        : RULE_HINTS[a.rule_hint] ?? { analytic: '?', detections: [] };
      return { ...base, serverPort: a.server_port };
    });
    out.push({
      source: 'pcaps', name: label.name ?? f.replace(/\.json$/, ''),
      file: path.join(PCAPS, label.file), tunnel: label.tunnel === true,
      label: (label.description ?? '').slice(0, 60), expected,
      config: fs.existsSync(LAB_CONFIG) ? LAB_CONFIG : undefined,
    });
  }
  return out;
}

function readTsv(file: string): Array<Record<string, string>> {
  const lines = fs.readFileSync(file, 'utf8').split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const header = lines[0].split('\t');
  return lines.slice(1).map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

function publicScenarios(): Scenario[] {
  const manifest = path.join(CORPUS, 'MANIFEST.tsv');
  if (!fs.existsSync(manifest)) return [];
  const policy = new Map(readTsv(path.join(REPO, 'eval/public-expectations.tsv'))
    .map((r) => [r.category, r]));
  // A relabelled row keeps its file and takes tunnel and category from the correction.
  const relabels = new Map(readTsv(path.join(REPO, 'eval/corpus-relabels.tsv'))
    .map((r) => [r.file, r]));
  const out: Scenario[] = [];
  for (const fetched of readTsv(manifest)) {
    const fix = relabels.get(fetched.file);
    const row = fix ? { ...fetched, tunnel: fix.tunnel, category: fix.category } : fetched;
    const file = path.join(CORPUS, row.file);
    if (!fs.existsSync(file)) continue;
    const tunnel = row.tunnel !== 'none';
    const s: Scenario = {
      source: 'public', name: row.file, file, tunnel,
      label: fix ? `${row.tunnel} (relabelled, was ${fetched.tunnel})` : row.tunnel, expected: [],
    };
    if (tunnel) {
      const p = policy.get(row.category);
      if (p === undefined) s.unscored = `no expectation for category ${row.category}`;
      else {
        s.expected.push({ analytic: p.analytic,
          detections: p.detections === '*' ? [] : p.detections.split(',') });
      }
    }
    out.push(s);
  }
  return out;
}

function replay(s: Scenario, dir: string, i: number): Promise<Outcome> {
  const alertsFile = path.join(dir, `${i}.alerts.ndjson`);
  const flowsFile = path.join(dir, `${i}.flows.ndjson`);
  const args = [BIN, 'replay', '--workers', '0', '--no-progress', '--alerts', alertsFile,
    '--flows', flowsFile, ...(s.config ? ['--config', s.config] : []), s.file];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 64 << 20, timeout: 600_000 },
      (err, _stdout, stderr) => {
        const exit = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '')
          .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
        const flows = read(flowsFile).filter((d) => d.tunnelhound.flow.final).length;
        const alerts = read(alertsFile).filter((d) => d.tunnelhound.alert_update === 0)
          .map((d): Alert => ({ analytic: d.rule.id,
            detections: d.tunnelhound.detections ?? [d.tunnelhound.detection],
            port: d.destination.port, score: d.tunnelhound.score }));
        resolve(judge(s, exit, flows, alerts, stderr));
      });
  });
}

function matches(e: Expected, a: Alert): boolean {
  return a.analytic === e.analytic &&
    (e.detections.length === 0 || e.detections.some((n) => a.detections.includes(n))) &&
    (e.serverPort === undefined || a.port === e.serverPort);
}

function judge(s: Scenario, exit: number, flows: number, alerts: Alert[],
  stderr: string): Outcome {
  const o: Outcome = { scenario: s, exit, flows, alerts, verdict: 'ok', detail: '' };
  if (exit === 2 || (exit !== 0 && flows === 0)) {
    o.verdict = 'error';
    o.detail = stderr.trim().split('\n').pop() ?? '';
  } else if (s.unscored !== undefined) {
    o.verdict = 'unscored';
    o.detail = s.unscored;
  } else if (!s.tunnel) {
    if (alerts.length > 0) o.verdict = 'false-alarm';
  } else {
    const missing = s.expected.filter((e) => !alerts.some((a) => matches(e, a)));
    if (missing.length > 0) {
      o.verdict = 'missed';
      o.detail = missing.map((e) => `${e.analytic}/${e.detections.join('|') || '*'}` +
        (e.serverPort ? `@${e.serverPort}` : '')).join(', ');
    }
  }
  return o;
}

function summarise(alerts: Alert[]): string {
  const n = new Map<string, number>();
  for (const a of alerts) {
    const k = `${a.analytic}/${a.detections.join('+')}@${a.port}`;
    n.set(k, (n.get(k) ?? 0) + 1);
  }
  return [...n].map(([k, c]) => (c > 1 ? `${k} x${c}` : k)).join(', ') || '-';
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const jobs = argv.includes('--jobs') ? Number(argv[argv.indexOf('--jobs') + 1])
    : Math.max(1, os.cpus().length);
  const all = [...ourScenarios(), ...publicScenarios()]
    .filter((s) => only === undefined || s.name.includes(only));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-eval-'));
  const results: Outcome[] = new Array(all.length);
  let next = 0;
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (next < all.length) {
      const i = next++;
      results[i] = await replay(all[i], dir, i);
    }
  }));
  fs.rmSync(dir, { recursive: true, force: true });

  const rows = results.map((o) => [o.scenario.source, o.scenario.name.slice(0, 52),
    o.scenario.tunnel ? 'tunnel' : 'benign',
    o.scenario.expected.map((e) => `${e.analytic}/${e.detections.join('|') || '*'}` +
      (e.serverPort ? `@${e.serverPort}` : '')).join(', ') || (o.scenario.tunnel ? '?' : '-'),
    summarise(o.alerts).slice(0, 70), String(o.flows),
    o.verdict + (o.detail ? ` (${o.detail.slice(0, 60)})` : '')]);
  const head = ['source', 'scenario', 'kind', 'expected', 'got', 'flows', 'verdict'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((x, c) => x.padEnd(widths[c])).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));

  const stats = (src?: string) => {
    const sel = results.filter((o) => src === undefined || o.scenario.source === src);
    const tunnels = sel.filter((o) => o.scenario.tunnel && o.verdict !== 'unscored');
    const hit = tunnels.filter((o) => o.verdict === 'ok').length;
    const benign = sel.filter((o) => !o.scenario.tunnel);
    const benignFlows = benign.reduce((a, o) => a + o.flows, 0);
    const falseAlerts = benign.reduce((a, o) => a + o.alerts.length, 0);
    return {
      scenarios: sel.length, tunnels: tunnels.length, detected: hit,
      recall: tunnels.length ? hit / tunnels.length : 1,
      benignScenarios: benign.length,
      benignWithAlerts: benign.filter((o) => o.alerts.length > 0).length,
      benignFlows, falseAlerts,
      falseAlarmsPer1000: benignFlows ? (falseAlerts * 1000) / benignFlows : 0,
      unscored: sel.filter((o) => o.verdict === 'unscored').length,
      errors: sel.filter((o) => o.verdict === 'error').length,
    };
  };
  console.log('');
  for (const [name, s] of [['pcaps', stats('pcaps')], ['public', stats('public')],
    ['all', stats()]] as const) {
    console.log(`${name.padEnd(6)}  recall ${s.detected}/${s.tunnels} ` +
      `(${(s.recall * 100).toFixed(1)} %)  false alarms ${s.falseAlerts} on ` +
      `${s.benignFlows} benign flows = ${s.falseAlarmsPer1000.toFixed(2)} per 1,000 ` +
      `(${s.benignWithAlerts}/${s.benignScenarios} benign scenarios alerted)` +
      (s.unscored ? `  unscored ${s.unscored}` : '') + (s.errors ? `  errors ${s.errors}` : ''));
  }
  const outDir = path.join(REPO, 'eval/out');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({
    when: new Date().toISOString(), stats: { pcaps: stats('pcaps'), public: stats('public'),
      all: stats() },
    results: results.map((o) => ({ ...o, scenario: { ...o.scenario, file: undefined } })),
  }, null, 1));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
