// Replay throughput and memory of tunnelhound against libpcap alone (tcpdump) and nDPI
// (ndpiReader), on the captures made by make-bench-captures.ts. `npm run bench`, or:
//   node dist/bench/replay-bench.js [--repeat N] [--profile] [capture ...]
// Every measurement is a fresh process under /usr/bin/time (peak RSS, CPU seconds); the
// table shows the median of the repeats. Prints a Markdown table on stdout, progress on
// stderr, and keeps every run in bench/out/results.json.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { pcapLibVersion } from '../src/capture/pcap';
import { DEFAULT_FLOW_TABLE } from '../src/flow/flow-table';
import {
  BenchCapture, CaptureMeta, OUT_DIR, ROOT, ensureBenchCaptures, readMeta,
} from './make-bench-captures';

const REPEATS = 3;
/**
 * syn-1m is a memory probe, and ndpiReader alone needs about a minute on it: one run keeps
 * the whole bench near five minutes on two cores.
 */
const REPEATS_BY_CAPTURE: Record<string, number> = { 'syn-1m': 1 };
/** A run still going after this long is killed and shown as a timeout, not waited for. */
const RUN_TIMEOUT_MS = 300_000;
const TIME_BIN = '/usr/bin/time';
const CLI = path.join(ROOT, 'bin', 'tunnelhound.js');
/** A capture small enough that its RSS is the process's fixed cost (per-flow baseline). */
const TINY_CAPTURE = path.join(ROOT, 'pcaps', 'dns-53.pcap');
const PROFILE_TOP = 12;
const PROFILE_RUNS = 3;

interface Tool {
  name: string;
  argv: (file: string, c: BenchCapture) => string[];
  /** Standard output goes to /dev/null (tunnelhound's alerts). */
  devNullStdout: boolean;
}

interface Run {
  wallSec: number;
  cpuSec: number;
  rssKb: number;
  timedOut: boolean;
  exitCode: number | null;
  /** tunnelhound's own summary line, parsed. */
  summary: Summary | null;
}

interface Summary {
  packets: number;
  flows: number;
  alerts: number;
  evicted: number;
  elapsedSec: number;
}

// Alerts go to standard output, and standard output to /dev/null. Not `--alerts /dev/null`:
// with a worker, that path can hang for good (the alert writer's ready() waits for a 'drain'
// event that already fired while the dispatcher was waiting for shard buffers; seen on bulk).
const tunnelhound = (workers: number): Tool => ({
  name: `tunnelhound --workers ${workers}`,
  devNullStdout: true,
  argv: (file, c) => ['node', CLI, 'replay', '--workers', String(workers), '--no-progress',
    ...(c.config ? ['--config', c.config] : []), file],
});

const TCPDUMP: Tool = {
  name: 'tcpdump -r -w /dev/null', devNullStdout: false,
  argv: (file) => ['tcpdump', '-r', file, '-w', '/dev/null'],
};

const NDPI: Tool = {
  name: 'ndpiReader -q', devNullStdout: false,
  argv: (file) => ['ndpiReader', '-i', file, '-q'],
};

function available(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined;
}

function firstLine(cmd: string, args: string[], pattern: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  return text.split('\n').find((l) => pattern.test(l))?.trim() ?? 'unknown';
}

const SUMMARY_RE = new RegExp('^tunnelhound: (\\d+) packets, \\d+ bytes, (\\d+) flows, ' +
  '(\\d+) alerts[^,]*, .*, (\\d+) evicted, (?:.*, )?([\\d.]+) s,');

function parseSummary(stderr: string): Summary | null {
  for (const line of stderr.split('\n')) {
    const m = SUMMARY_RE.exec(line);
    if (m) {
      const [packets, flows, alerts, evicted, elapsedSec] = m.slice(1, 6).map(Number);
      return { packets, flows, alerts, evicted, elapsedSec };
    }
  }
  return null;
}

/** One process under /usr/bin/time, in its own process group so a timeout can end it all. */
function runOnce(argv: string[], devNullStdout: boolean, haveTime: boolean): Promise<Run> {
  const timeFile = path.join(OUT_DIR, `time.${process.pid}.txt`);
  const full = haveTime ? [TIME_BIN, '-f', '%e %M %U %S', '-o', timeFile, ...argv] : argv;
  const stdout = devNullStdout ? fs.openSync('/dev/null', 'w') : 'ignore';
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(full[0], full.slice(1), {
      stdio: ['ignore', stdout, 'pipe'], detached: true,
    });
    if (typeof stdout === 'number') fs.closeSync(stdout);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < 1e6) stderr += s;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
      let rssKb = NaN;
      let cpuSec = NaN;
      if (haveTime && fs.existsSync(timeFile)) {
        // The last line: GNU time puts "Command exited with non-zero status" before it.
        const fields = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ');
        rssKb = Number(fields[1]);
        cpuSec = Number(fields[2]) + Number(fields[3]);
        fs.unlinkSync(timeFile);
      }
      if (code !== 0 && !timedOut) {
        process.stderr.write(`\n  ${argv.join(' ')} exited ${code}: ${stderr.slice(-400)}\n`);
      }
      resolve({ wallSec, cpuSec, rssKb, timedOut, exitCode: code,
        summary: parseSummary(stderr) });
    });
  });
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Row {
  capture: string;
  tool: string;
  runs: Run[];
  wallSec: number;
  cpuSec: number;
  rssKb: number;
  summary: Summary | null;
}

function toRow(capture: string, tool: string, runs: Run[]): Row {
  const ok = runs.filter((r) => !r.timedOut && r.exitCode === 0);
  const summaries = ok.map((r) => r.summary).filter((s): s is Summary => s !== null);
  const summary = summaries.length === 0 ? null : {
    ...summaries[0], elapsedSec: median(summaries.map((s) => s.elapsedSec)),
  };
  return {
    capture, tool, runs, summary, wallSec: median(ok.map((r) => r.wallSec)),
    cpuSec: median(ok.map((r) => r.cpuSec)), rssKb: median(ok.map((r) => r.rssKb)),
  };
}

const fmt = (x: number, digits = 2): string =>
  (Number.isFinite(x) ? x.toFixed(digits) : '—');
const kilo = (x: number): string => (Number.isFinite(x) ? `${Math.round(x / 1000)}k` : '—');

function tableLines(rows: Row[], metas: Map<string, CaptureMeta>): string[] {
  const out = [
    '| capture | tool | wall s | CPU s | replay s | packets/s | Mbit/s | flows/s | ' +
      'peak RSS MB | th/nDPI | th/nDPI CPU | th/tcpdump |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const m = metas.get(r.capture)!;
    const timedOut = r.runs.some((x) => x.timedOut);
    const pps = m.packets / r.wallSec;
    const mbps = (m.wireBytes * 8) / r.wallSec / 1e6;
    const flows = r.summary ? r.summary.flows / r.wallSec : NaN;
    const peer = (name: string) =>
      rows.find((x) => x.capture === r.capture && x.tool === name);
    // Throughput ratios on wall time: above 1, tunnelhound is the faster of the two.
    const ratio = (name: string, cpu = false) => {
      const p = peer(name);
      if (!r.tool.startsWith('tunnelhound') || !p) return '';
      const x = cpu ? p.cpuSec / r.cpuSec : p.wallSec / r.wallSec;
      return Number.isFinite(x) ? `${x >= 1 ? x.toFixed(2) : x.toPrecision(2)}×` : '—';
    };
    const tool = `${r.tool}${timedOut ? ' (timeout)' : ''}`;
    out.push(`| ${r.capture} | ${tool} | ${fmt(r.wallSec)} | ` +
      `${fmt(r.cpuSec)} | ${r.summary ? fmt(r.summary.elapsedSec) : ''} | ${kilo(pps)} | ` +
      `${fmt(mbps, 0)} | ${r.summary ? kilo(flows) : ''} | ${fmt(r.rssKb / 1024, 0)} | ` +
      `${ratio(NDPI.name)} | ${ratio(NDPI.name, true)} | ${ratio(TCPDUMP.name)} |`);
  }
  return out;
}

function captureLines(captures: BenchCapture[], metas: Map<string, CaptureMeta>): string[] {
  return [
    '| capture | what | packets | file MB | flows |', '| --- | --- | ---: | ---: | ---: |',
    ...captures.map((c) => {
      const m = metas.get(c.name)!;
      return `| ${c.name} | ${c.what} | ${m.packets} | ${fmt(m.fileBytes / 1e6, 0)} | ` +
        `${m.flows ?? '—'} |`;
    }),
  ];
}

/** Self time per function over V8 .cpuprofile files, summed, largest first. */
function profileTop(files: string[]): Array<{ name: string; ms: number; share: number }> {
  interface Node { id: number; callFrame: { functionName: string; url: string;
    lineNumber: number } }
  const self = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as
      { nodes: Node[]; samples: number[]; timeDeltas: number[] };
    const nameOf = new Map<number, string>();
    for (const n of prof.nodes) {
      const f = n.callFrame;
      const where = f.url ? ` ${path.relative(ROOT, f.url.replace(/^file:\/\//, ''))}:` +
        `${f.lineNumber + 1}` : '';
      nameOf.set(n.id, `${f.functionName || '(anonymous)'}${where}`);
    }
    // timeDeltas[i + 1] is the time spent in sample i (DevTools' reading of the format).
    for (let i = 0; i < prof.samples.length; i++) {
      const us = prof.timeDeltas[i + 1] ?? 0;
      const name = nameOf.get(prof.samples[i])!;
      self.set(name, (self.get(name) ?? 0) + us);
      total += us;
    }
  }
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, PROFILE_TOP)
    .map(([name, us]) => ({ name, ms: us / 1000 / files.length, share: us / total }));
}

/**
 * Inline replay under --cpu-prof, PROFILE_RUNS times: one run's split between a function
 * and the ones it inlines moves from run to run, the sum over a few runs much less.
 */
async function profile(c: BenchCapture): Promise<string[]> {
  const dir = path.join(OUT_DIR, `prof-${c.name}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const argv = ['node', '--cpu-prof', '--cpu-prof-dir', dir,
    ...tunnelhound(0).argv(c.file, c).slice(1)];
  for (let i = 0; i < PROFILE_RUNS; i++) {
    process.stderr.write(`bench: profiling (${i + 1}/${PROFILE_RUNS}) ${argv.join(' ')}\n`);
    await runOnce(argv, true, false);
  }
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
  if (files.length === 0) return [`no profile written for ${c.name}`];
  return [
    `### ${c.name}: self time, \`--workers 0\`, mean of ${files.length} runs ` +
      `(${path.relative(ROOT, dir)}/)`,
    '', '| function | self ms | share |', '| --- | ---: | ---: |',
    ...profileTop(files).map((t) =>
      `| \`${t.name}\` | ${t.ms.toFixed(0)} | ${(t.share * 100).toFixed(1)} % |`),
  ];
}

function environmentLines(haveNdpi: boolean): string[] {
  const git = (args: string[]) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' })
    .stdout?.trim() ?? '';
  const edited = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const dirty = edited ? ' + local edits' : '';
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${os.availableParallelism()} CPUs (\`nproc\`), ` +
      `${os.cpus()[0]?.model ?? '?'}, ` +
      `${Math.round(os.totalmem() / 2 ** 30)} GiB; load average at start ` +
      `${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`,
    `- node ${process.version}; tunnelhound ${git(['rev-parse', '--short', 'HEAD'])}${dirty}`,
    `- ${pcapLibVersion()}; ${firstLine('tcpdump', ['--version'], /^tcpdump/)}; ` +
      (haveNdpi ? firstLine('ndpiReader', ['-h'], /nDPI/) : 'ndpiReader not available'),
  ];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let repeatArg: number | undefined;
  let wantProfile = false;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--profile') wantProfile = true;
    else if (args[i] === '--repeat') repeatArg = Number(args[++i]);
    else if (args[i].startsWith('--')) throw new Error(`unknown option ${args[i]}`);
    else names.push(args[i]);
  }
  if (repeatArg !== undefined && !(Number.isInteger(repeatArg) && repeatArg >= 1)) {
    throw new Error('--repeat must be a positive integer');
  }
  const captures = ensureBenchCaptures(names);

  const haveTime = fs.existsSync(TIME_BIN);
  if (!haveTime) {
    process.stderr.write(`bench: ${TIME_BIN} missing (Debian package "time"): no peak RSS\n`);
  }
  const haveNdpi = available('ndpiReader', ['-h']);
  if (!haveNdpi) process.stderr.write('bench: ndpiReader not available\n');
  const haveTcpdump = available('tcpdump', ['--version']);
  if (!haveTcpdump) process.stderr.write('bench: tcpdump not available\n');
  const tools = [tunnelhound(1), tunnelhound(0), ...(haveTcpdump ? [TCPDUMP] : []),
    ...(haveNdpi ? [NDPI] : [])];

  const env = environmentLines(haveNdpi);
  const rows: Row[] = [];
  const metas = new Map<string, CaptureMeta>();
  for (const c of captures) {
    metas.set(c.name, readMeta(c));
    const repeats = repeatArg ?? REPEATS_BY_CAPTURE[c.name] ?? REPEATS;
    const runs = new Map<string, Run[]>(tools.map((t) => [t.name, []]));
    for (let i = 0; i < repeats; i++) {
      for (const t of tools) {
        process.stderr.write(`bench: ${c.name} ${t.name} (${i + 1}/${repeats}) `);
        const r = await runOnce(t.argv(c.file, c), t.devNullStdout, haveTime);
        process.stderr.write(`${r.timedOut ? 'timeout' : fmt(r.wallSec)} s\n`);
        runs.get(t.name)!.push(r);
      }
    }
    for (const t of tools) rows.push(toRow(c.name, t.name, runs.get(t.name)!));
  }

  env.push(`- load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ` +
    'each round runs every tool once, back to back, on the same capture');
  const out = ['## Results', '', ...env, '', ...captureLines(captures, metas), '',
    ...tableLines(rows, metas), ''];
  const syn = captures.find((c) => c.name === 'syn-1m');
  if (syn && haveTime) {
    out.push(...(await memoryLines(syn, tools, rows, metas.get(syn.name)!)));
  }
  if (wantProfile) {
    for (const c of captures.filter((x) => x.name !== 'syn-1m')) {
      out.push(...(await profile(c)), '');
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  fs.writeFileSync(path.join(OUT_DIR, 'results.json'),
    JSON.stringify({ env, rows, metas: Object.fromEntries(metas) }, null, 2) + '\n');
}

/** Bytes per live flow: peak RSS on syn-1m less peak RSS on a tiny capture, same settings. */
async function memoryLines(syn: BenchCapture, tools: Tool[], rows: Row[],
  meta: CaptureMeta): Promise<string[]> {
  const lines = ['Memory per live flow (syn-1m peak RSS less the same command on ' +
    `\`${path.relative(ROOT, TINY_CAPTURE)}\`, over ${meta.flows} flows):`, ''];
  for (const t of tools.filter((x) => x !== TCPDUMP)) {
    const base = await runOnce(t.argv(TINY_CAPTURE, syn), t.devNullStdout, true);
    const row = rows.find((r) => r.capture === syn.name && r.tool === t.name)!;
    const perFlow = ((row.rssKb - base.rssKb) * 1024) / meta.flows!;
    const mb = (kb: number) => fmt(kb / 1024, 0);
    lines.push(`- ${t.name}: ${mb(row.rssKb)} MB, ${mb(base.rssKb)} MB on the tiny ` +
      `capture: ${fmt(perFlow, 0)} bytes per flow`);
  }
  // The same million flows with the default capacity: the table must evict, not grow.
  const plain = tools.find((t) => t.name === tunnelhound(0).name);
  if (plain) {
    const run = await runOnce(plain.argv(syn.file, { ...syn, config: undefined }), true, true);
    const evicted = run.summary?.evicted ?? NaN;
    lines.push(`- ${plain.name} with the default flow table capacity ` +
      `(${DEFAULT_FLOW_TABLE.capacity.toLocaleString('en')}): ` +
      `${fmt(run.rssKb / 1024, 0)} MB peak RSS, ${evicted} flows evicted to admit new ones`);
  }
  return [...lines, ''];
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`replay-bench: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
