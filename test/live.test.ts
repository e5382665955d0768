// `tunnelhound live` on a veth into a namespace of our own: real traffic in, SIGTERM, exit 0,
// the alert written and the capture counters in the summary.

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

function waitFor(child: ChildProcess, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${re}: ${text}`)), ms);
    child.stderr!.on('data', (b: Buffer) => {
      text += b.toString();
      if (re.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
  });
}

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
    await waitFor(sensor, /capture started/, 10_000);

    // 256 KiB of random bytes to port 80: ciphertext where cleartext belongs.
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(80, lab.nsAddr, () => c.end(crypto.randomBytes(256 * 1024)));
      c.on('close', () => resolve());
      c.on('error', reject);
    });
    const exited = new Promise<number | null>((resolve) => sensor.on('exit', resolve));
    const summary = waitFor(sensor, /dropped by interface/, 15_000);
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
