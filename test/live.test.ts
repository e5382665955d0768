// `tunnelhound live` on a veth into a namespace of our own: real traffic in (a socket, then
// the tunnel captures replayed by tcpreplay), metrics and health scraped while it runs,
// SIGTERM, exit 0, the alerts written and the capture counters in the summary.

import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createVethLab } from './helpers/capture-netns';
import { BIN, parseNdjson, PCAPS, waitForStderr } from './helpers/cli';

const isRoot = process.getuid?.() === 0;

t.test('live capture, SIGTERM flushes flows and alerts', { skip: !isRoot && 'needs root' },
  async (t) => {
    const lab = createVethLab();
    t.teardown(() => lab.destroy());
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-live-'));
    t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
    // A discard server on port 80 inside the namespace.
    const server = spawn('ip', ['netns', 'exec', lab.ns, process.execPath, '-e',
      'require("net").createServer((s) => s.resume()).listen(80, () => console.log("up"))']);
    t.teardown(() => server.kill('SIGKILL'));
    await new Promise<void>((resolve) => server.stdout.once('data', () => resolve()));

    const alerts = path.join(tmp, 'alerts.ndjson');
    const sensor = spawn(process.execPath, [BIN, 'live', '--interface', lab.hostIf,
      '--alerts', alerts, '--log-level', 'info', '--workers', '2'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    t.teardown(() => sensor.kill('SIGKILL'));
    await waitForStderr(sensor, /capture started/, 10_000);

    // 256 KiB of random bytes to port 80: ciphertext where cleartext belongs.
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(80, lab.nsAddr, () => c.end(crypto.randomBytes(256 * 1024)));
      c.on('close', () => resolve());
      c.on('error', reject);
    });
    const exited = new Promise<number | null>((resolve) => sensor.on('exit', resolve));
    const summary = waitForStderr(sensor, /dropped by interface/, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    sensor.kill('SIGTERM');
    const text = await summary;
    t.equal(await exited, 0, 'exit 0 after SIGTERM');
    const m = /capture: (\d+) received, (\d+) dropped by kernel, (\d+) dropped by interface/
      .exec(text);
    t.ok(m, 'capture counters in the summary');
    // veth segmentation offload sends the transfer in a few large frames: count, not size.
    t.ok(Number(m![1]) >= 8, `received counts the transfer (${m![1]})`);
    t.equal(Number(m![2]), 0, 'no kernel drops at this rate');
    const docs = parseNdjson(fs.readFileSync(alerts, 'utf8'));
    const hit = docs.find((d) => d.tunnelhound.detection === 'cleartext_port_entropy');
    t.ok(hit, 'the entropy alert was flushed at shutdown');
    t.equal(hit?.destination.ip, lab.nsAddr);
    t.equal(hit?.destination.port, 80);
    t.ok(hit?.source.bytes >= 256 * 1024, `all client bytes accounted (${hit?.source.bytes})`);
  });

/** Captures with a tunnel in them, replayed onto the wire by tcpreplay. */
const TUNNEL_CAPTURES = ['ssh-on-443', 'openssl-on-80', 'random-on-80', 'ssh-reverse-443'];
const hasTcpreplay = spawnSync('tcpreplay', ['--version']).status === 0;
/** The /24 capture i is moved to. */
const labNet = (i: number) => `10.77.${11 + i}`;

interface ExpectedAlert {
  protocol: string;
  server_port: number;
  analytic?: string;
  detection?: string;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

async function poll<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean,
  ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('tunnel captures replayed onto a veth: alerts, metrics, health, --user',
  { skip: (!isRoot && 'needs root') || (!hasTcpreplay && 'needs tcpreplay') },
  async (t) => {
    const lab = createVethLab();
    t.teardown(() => lab.destroy());
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-live-'));
    t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
    // The alerts file is opened as --user nobody (README: its directory must be writable by
    // the user), so the directory is made like /var/log/tunnelhound in the install steps.
    fs.chownSync(tmp, 65534, 65534);
    const alerts = path.join(tmp, 'alerts.ndjson');
    const sensor = spawn(process.execPath, [BIN, 'live', '--interface', lab.hostIf,
      '--alerts', alerts, '--log-level', 'info', '--workers', '2', '--metrics', '127.0.0.1:0',
      '--stats-interval', '1', '--user', 'nobody'], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.teardown(() => sensor.kill('SIGKILL'));
    let log = '';
    sensor.stderr!.on('data', (b: Buffer) => {
      log += b.toString();
    });
    const started = await waitForStderr(sensor, /capture started/, 30_000);
    const url = /"metrics":"(http:\/\/127\.0\.0\.1:\d+)\/metrics"/.exec(started)?.[1];
    t.ok(url, 'the metrics address is logged');
    t.match(started, /"msg":"privileges dropped"/);
    const status = fs.readFileSync(`/proc/${sensor.pid}/status`, 'utf8');
    t.match(status, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m, 'runs as nobody, for good');
    t.match(status, /^CapEff:\s+0+$/m, 'with no capability left');
    const health = await poll('healthz 200', () => httpGet(`${url}/healthz`),
      (r) => r.status === 200);
    t.equal(health.body, 'ok\n');

    // All captures were made between the same two lab hosts, and a repeat of an alert between
    // the same hosts within TimeWindow is folded: each capture gets its own /24 (tcprewrite,
    // checksums fixed) so each must raise its own alerts.
    const files = TUNNEL_CAPTURES.map((c, i) => {
      const out = path.join(tmp, `${c}.pcap`);
      const rw = spawnSync('tcprewrite', [`--pnat=10.77.0.0/24:${labNet(i)}.0/24`, '--fixcsum',
        `--infile=${path.join(PCAPS, `${c}.pcap`)}`, `--outfile=${out}`], { encoding: 'utf8' });
      if (rw.status !== 0) throw new Error(`tcprewrite ${c}: ${rw.stderr}`);
      return out;
    });
    // Every tunnel capture, back to back, at a rate the veth and the sensor take whole.
    const replay = spawnSync('ip', ['netns', 'exec', lab.ns, 'tcpreplay', '--mbps', '20',
      '-i', lab.nsIf, ...files], { encoding: 'utf8', timeout: 120_000 });
    t.equal(replay.status, 0, `tcpreplay ran: ${replay.stderr}`);
    const actual = /Actual: (\d+) packets \((\d+) bytes\)/.exec(replay.stdout);
    const sent = Number(actual?.[1]);
    const sentBytes = Number(actual?.[2]);
    t.ok(sent > 1000, `tcpreplay sent ${sent} packets`);

    // While it runs: every replayed packet counted by the capture and by the pipeline. The
    // shards decode and count malformed packets; those counts reach the metrics with each
    // shard's next tick (a second here), so the poll waits for them too.
    const text = await poll('all packets in the metrics', async () =>
      (await httpGet(`${url}/metrics`)).body,
    (b) => metricValue(b, 'tunnelhound_packets_total') >= sent &&
      metricValue(b, 'tunnelhound_malformed_packets_total{kind="non_ip"}') >= 8);
    t.ok(metricValue(text, 'tunnelhound_capture_received_packets_total') >= sent,
      'capture received counter');
    t.equal(metricValue(text, 'tunnelhound_capture_kernel_dropped_packets_total'), 0);
    t.ok(metricValue(text, 'tunnelhound_bytes_total') >= sentBytes,
      `bytes counted (${sentBytes} sent)`);
    t.ok(metricValue(text, 'tunnelhound_malformed_packets_total{kind="non_ip"}') >= 8,
      'the captures\' non-IP frames counted by kind');
    t.equal(metricValue(text, 'tunnelhound_worker_up{worker="1"}'), 1);
    t.ok(metricValue(text, 'tunnelhound_worker_queue_depth{worker="0"}') >= 0);
    t.equal(metricValue(text, 'tunnelhound_worker_restarts_total'), 0);
    // The periodic stats line (every second here) carries the same figures.
    const lastStats = () => log.split('\n').filter((l) => l.includes('"msg":"capture stats"'))
      .map((l) => JSON.parse(l)).pop();
    const stats = await poll('a stats line after the replay', async () => lastStats(),
      (s) => s !== undefined && s.packets >= sent && s.malformed.non_ip >= 8);
    t.ok(stats.capture.received >= sent, 'the stats line has the capture counters');
    t.equal(stats.capture.dropped, 0);
    t.same(stats.queueDepth.length, 2, 'queue depth per worker');
    t.ok(stats.malformed.non_ip >= 8, 'malformed counts by kind');

    const exited = new Promise<number | null>((resolve) => sensor.on('exit', resolve));
    sensor.kill('SIGTERM');
    t.equal(await exited, 0, 'exit 0 after SIGTERM');
    const m = /capture: (\d+) received, (\d+) dropped by kernel, (\d+) dropped by interface/
      .exec(log);
    t.ok(m, 'capture counters in the summary');
    t.ok(Number(m![1]) >= sent, `received ${m![1]} of ${sent} sent`);
    t.equal(Number(m![2]), 0, 'no kernel drops at 20 Mbit/s');

    const docs = parseNdjson(fs.readFileSync(alerts, 'utf8'));
    for (const [i, c] of TUNNEL_CAPTURES.entries()) {
      const label = JSON.parse(fs.readFileSync(path.join(PCAPS, `${c}.json`), 'utf8'));
      for (const e of label.expected.alerts as ExpectedAlert[]) {
        const hit = docs.find((d) => d.destination.ip === `${labNet(i)}.2` &&
          d.destination.port === e.server_port &&
          d.network.protocol === e.protocol && /^AN148[3-6]$/.test(d.rule.id) &&
          (e.analytic === undefined || d.rule.id === e.analytic) &&
          (e.detection === undefined || d.tunnelhound.detection === e.detection));
        t.ok(hit, `${c}: ${e.protocol} to ${labNet(i)}.2:${e.server_port} alerted` +
          (hit ? ` (${hit.rule.id} ${hit.tunnelhound.detection})` : ''));
      }
    }
    const entropy = docs.find((d) => d.tunnelhound.detection === 'cleartext_port_entropy');
    t.equal(entropy?.rule.id, 'AN1484', 'random bytes on 80: AN1484 cleartext entropy');
    t.equal(entropy?.destination.port, 80);
  });

t.test('--user naming nobody who exists fails before capture, exit 2', async (t) => {
  const r = spawnSync(process.execPath, [BIN, 'live', '--interface', 'lo', '--user',
    'th-no-such-user'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.equal(r.stderr, 'tunnelhound: --user th-no-such-user: no such user th-no-such-user\n');
});
