// `tunnelhound live` re-reads its config on SIGHUP: a good file changes the verdicts of the
// flows that follow, a bad one is refused with the key named and the running config kept,
// and the capture goes on throughout. Real traffic on a veth into a namespace of our own.

import t from 'tap';
import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createVethLab } from './helpers/capture-netns';
import { BIN, parseNdjson } from './helpers/cli';

const isRoot = process.getuid?.() === 0;

/** Resolves once the child's standard error so far matches `re`. */
function stderrOf(child: ChildProcess): (re: RegExp, ms: number) => Promise<string> {
  let text = '';
  child.stderr!.on('data', (b: Buffer) => { text += b.toString(); });
  return (re, ms) => new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (re.test(text)) {
        clearInterval(poll);
        resolve(text);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`timeout waiting for ${re}: ${text}`));
      }
    }, 50);
  });
}

/** Poll a file of NDJSON until a document satisfies `pred`. */
async function waitForDoc(file: string, pred: (d: Record<string, any>) => boolean,
  ms: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (parseNdjson(text.slice(0, text.lastIndexOf('\n') + 1)).some(pred)) return;
    if (Date.now() - started > ms) throw new Error(`timeout waiting in ${file}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** 64 KiB of random bytes to port 80 (ciphertext where cleartext belongs); the client port. */
function sendRandom(addr: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = net.connect(80, addr, () => c.end(crypto.randomBytes(64 * 1024)));
    let port = 0;
    c.on('connect', () => { port = c.localPort!; });
    c.on('close', () => resolve(port));
    c.on('error', reject);
  });
}

t.test('SIGHUP reloads the config: good file applied, bad file refused',
  { skip: !isRoot && 'needs root' }, async (t) => {
    const lab = createVethLab();
    t.teardown(() => lab.destroy());
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-reload-'));
    t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const server = spawn('ip', ['netns', 'exec', lab.ns, process.execPath, '-e',
      'require("net").createServer((s) => s.resume()).listen(80, () => console.log("up"))']);
    t.teardown(() => server.kill('SIGKILL'));
    await new Promise<void>((resolve) => server.stdout.once('data', () => resolve()));

    // Flows end half a second after their FIN exchange, so each is judged before the next
    // reload; the entropy rule starts switched off. All flows join the same two hosts: no
    // folding of repeats, so each flow's verdict shows.
    const cfg = path.join(tmp, 'tunnelhound.yaml');
    const common = 'suppression: {perHostPair: false}\n';
    fs.writeFileSync(cfg, `${common}flowTable: {closedTimeoutSec: 0.5}\n` +
      'rules: {cleartextEntropy: {enabled: false}}\n');
    const alerts = path.join(tmp, 'alerts.ndjson');
    const flows = path.join(tmp, 'flows.ndjson');
    const sensor = spawn(process.execPath, [BIN, 'live', '--interface', lab.hostIf,
      '--alerts', alerts, '--flows', flows, '--config', cfg, '--log-level', 'info',
      '--workers', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.teardown(() => sensor.kill('SIGKILL'));
    const waitLog = stderrOf(sensor);
    await waitLog(/capture started/, 10_000);
    const ended = (port: number) => (d: Record<string, any>) =>
      d.source?.port === port && d.tunnelhound?.flow?.final === true;

    const off = await sendRandom(lab.nsAddr);
    await waitForDoc(flows, ended(off), 15_000);

    fs.writeFileSync(cfg, `${common}flowTable: {closedTimeoutSec: 0.5, capacity: 4096}\n` +
      'rules: {cleartextEntropy: {enabled: true}}\n');
    sensor.kill('SIGHUP');
    let log = await waitLog(/"msg":"config reloaded"/, 10_000);
    t.match(log, /"key":"flowTable\.capacity","msg":"config key ignored until restart/);
    t.match(log, /"changed":\["rules\.cleartextEntropy\.enabled"\]/);
    const on = await sendRandom(lab.nsAddr);
    await waitForDoc(flows, ended(on), 15_000);

    fs.writeFileSync(cfg, `${common}rules: {cleartextEntropy: {enabled: maybe}}\n`);
    sensor.kill('SIGHUP');
    log = await waitLog(/config reload failed/, 10_000);
    // pino writes JSON: the quotes around the value are escaped.
    t.match(log,
      /tunnelhound\.yaml:2: config key rules\.cleartextEntropy\.enabled: value \\"maybe/);
    const kept = await sendRandom(lab.nsAddr);
    await waitForDoc(flows, ended(kept), 15_000);

    const exited = new Promise<number | null>((resolve) => sensor.on('exit', resolve));
    sensor.kill('SIGTERM');
    t.equal(await exited, 0, 'exit 0 after SIGTERM');
    const hits = parseNdjson(fs.readFileSync(alerts, 'utf8'))
      .filter((d) => d.tunnelhound.detection === 'cleartext_port_entropy')
      .map((d) => d.source.port);
    t.notOk(hits.includes(off), 'no alert while the rule was off');
    t.ok(hits.includes(on), 'alert once the reloaded file switched it on');
    t.ok(hits.includes(kept), 'the bad file left the rule on');
    const docs = parseNdjson(fs.readFileSync(flows, 'utf8'));
    t.ok([off, on, kept].every((p) => docs.some(ended(p))), 'every flow followed to its end');
  });
