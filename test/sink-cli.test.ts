// The SIEM options end to end through the real CLI: alerts reach an HTTP bulk receiver once
// each with the auth header from the environment; with the receiver down they wait in the
// spool and the next run delivers them.

import t from 'tap';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFile } from 'node:child_process';
import { BIN, PCAPS, parseNdjson } from './helpers/cli';

interface Received { auth: string | undefined; docs: Array<Record<string, any>> }

/** A loopback `_bulk` receiver that records every document it is sent. */
async function bulkServer(port = 0): Promise<{
  url: string; got: Received[]; close: () => void;
}> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const lines = parseNdjson(body.toString('utf8'));
      // _bulk: action line, document line, repeated.
      got.push({ auth: req.headers.authorization, docs: lines.filter((_, i) => i % 2 === 1) });
      const items = lines.filter((_, i) => i % 2 === 0).map(() => ({ create: { status: 201 } }));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ errors: false, items }));
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const bound = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${bound}`, got, close: () => server.close() };
}

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env },
      timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-sinkcli-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const tunnels = [path.join(PCAPS, 'ssh-on-443.pcap'), path.join(PCAPS, 'random-on-80.pcap')];

t.test('alerts reach an Elasticsearch _bulk receiver once each, with auth', async (t) => {
  const srv = await bulkServer();
  t.teardown(srv.close);
  const r = await run(['replay', '--http', srv.url, '--http-auth-env', 'TH_TEST_AUTH',
    ...tunnels], { TH_TEST_AUTH: 'ApiKey sekrit' });
  t.equal(r.code, 0, r.stderr);
  const stdoutIds = parseNdjson(r.stdout).map((d) => d.event.id).sort();
  const ids = srv.got.flatMap((g) => g.docs.map((d) => d.event.id)).sort();
  t.equal(ids.length, 2);
  t.same(ids, stdoutIds, 'the same alerts as on standard output, each once');
  t.ok(srv.got.every((g) => g.auth === 'ApiKey sekrit'), 'auth header from the environment');
  t.match(r.stderr, /http-127\.0\.0\.1-\d+: 2 sent, 0 retried, 0 spooled, 0 dropped/);
  t.notMatch(r.stderr + r.stdout, /sekrit/, 'the secret is never printed');
});

t.test('receiver down: alerts are spooled, the next run delivers them', async (t) => {
  const spool = path.join(tmp, 'spool');
  // The spool belongs to the receiver (its name comes from host:port), so both runs use one
  // port: free now, a receiver on it for the second run.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const url = `http://127.0.0.1:${port}`;
  const down = await run(['replay', '--http', url, '--spool', spool,
    '--delivery-timeout', '1', ...tunnels]);
  t.equal(down.code, 0, down.stderr);
  t.match(down.stderr, new RegExp(`http-127\\.0\\.0\\.1-${port}: 0 sent, \\d+ retried, ` +
    '2 spooled, 0 dropped'));
  const firstIds = parseNdjson(down.stdout).map((d) => d.event.id).sort();
  t.ok(fs.readdirSync(spool).length > 0, 'spool files written');

  // Another receiver's run must not take them.
  const other = await bulkServer();
  t.teardown(other.close);
  await run(['replay', '--http', other.url, '--spool', spool, path.join(PCAPS, 'ssh-22.pcap')]);
  t.same(other.got.flatMap((g) => g.docs), [], 'a different receiver gets none of them');

  const srv = await bulkServer(port);
  t.teardown(srv.close);
  const up = await run(['replay', '--http', url, '--spool', spool,
    path.join(PCAPS, 'ssh-22.pcap')]);
  t.equal(up.code, 0, up.stderr);
  const ids = srv.got.flatMap((g) => g.docs.map((d) => d.event.id)).sort();
  t.same(ids, firstIds, 'the spooled alerts of the first run, each once');
});

t.test('a receiver that never answers does not hold the exit past --delivery-timeout',
  async (t) => {
    const silent = http.createServer(() => { /* accept and never answer */ });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => silent.closeAllConnections?.() ?? silent.close());
    const port = (silent.address() as AddressInfo).port;
    const spool = path.join(tmp, 'silent-spool');
    const started = Date.now();
    const r = await run(['replay', '--http', `http://127.0.0.1:${port}`, '--spool', spool,
      '--delivery-timeout', '1', ...tunnels]);
    const took = (Date.now() - started) / 1000;
    t.equal(r.code, 0, r.stderr);
    t.ok(took < 8, `exited ${took.toFixed(1)} s after start (timeout 1 s, request timeout 30 s)`);
    t.match(r.stderr, /http-127\.0\.0\.1-\d+: 0 sent, \d+ retried, 2 spooled, 0 dropped/);
    silent.close();
  });

t.test('a spool that cannot be written is refused at start', async (t) => {
  const file = path.join(tmp, 'not-a-dir');
  fs.writeFileSync(file, '');
  const r = await run(['replay', '--http', 'http://127.0.0.1:1', '--spool', file, ...tunnels]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--spool .*not-a-dir: not a writable directory/);
});
