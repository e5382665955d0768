// Live endpoint sources: a followed log through rotation and truncation, and the TCP listener
// over real TLS with client certificates (CA and certificates made by openssl for the test).

import t from 'tap';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { EndpointJoin } from '../src/endpoint/join';
import { EndpointFollowSource, MAX_BYTES_PER_POLL } from '../src/endpoint/source-follow';
import { EndpointListenSource } from '../src/endpoint/source-listen';
import { LineFeed, MAX_LINE_BYTES } from '../src/endpoint/line-feed';
import { makeLogger } from '../src/cli/log';
import { FlowRecord } from '../src/flow/flow-record';

const log = makeLogger('silent');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-epsrc-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** One auditd connect event (RAW format) by `pid` to 10.77.0.2:443. */
function connect(ts: number, serial: number, pid: number): string {
  return `type=SYSCALL msg=audit(${ts.toFixed(3)}:${serial}): arch=c000003e syscall=42 ` +
    `success=no exit=-115 ppid=1 pid=${pid} uid=0 comm="ssh" exe="/usr/bin/ssh" key="k"\n` +
    `type=SOCKADDR msg=audit(${ts.toFixed(3)}:${serial}): ` +
    'saddr=020001BB0A4D00020000000000000000\n' +
    `type=PROCTITLE msg=audit(${ts.toFixed(3)}:${serial}): ` +
    `proctitle=${Buffer.from('ssh\0-R\x0013389:127.0.0.1:3389\0h').toString('hex')}\n` +
    `type=EOE msg=audit(${ts.toFixed(3)}:${serial}):\n`;
}

function flow(ts: number, id = 'f'): FlowRecord {
  return {
    flowId: id, reportSeq: 0, final: true, reason: 'closed', clientIp: '10.77.0.1',
    clientPort: 40000, serverIp: '10.77.0.2', serverPort: 443, ipProto: 6, vlan: -1,
    firstTs: ts, lastTs: ts + 1, packets: [1, 1], bytes: [1, 1], payloadBytes: [0, 0],
    history: 'S', protoByDir: [0, 0], identifiedAt: [0, 0], entropy: [-1, -1],
    entropySample: [0, 0], head: ['', ''],
  };
}

t.test('line feed: garbage, over-long lines and lines split across chunks', async (t) => {
  const got: number[] = [];
  const bad: number[] = [];
  const f = new LineFeed((e) => got.push(e.process.pid!), (n) => bad.push(n));
  f.write('junk\n');
  f.write('x'.repeat(MAX_LINE_BYTES + 10));
  f.write('tail of the long line\n');
  const text = connect(1000, 1, 42);
  f.write(text.slice(0, 50));
  f.write(text.slice(50));
  f.end();
  t.same(got, [42]);
  t.same(bad.sort(), [1, 2], 'line numbers of what was skipped');
  t.equal(f.counts.malformed, 2);
  t.equal(f.counts.format, 'auditd');
});

t.test('follow: a log that appears later is read from its start', async (t) => {
  const file = path.join(tmp, 'later.log');
  const join = new EndpointJoin(DEFAULT_CONFIG);
  const src = new EndpointFollowSource(file, join, log, { pollMs: 60_000 });
  src.poll();
  t.equal(src.counts.events, 0);
  fs.writeFileSync(file, connect(1000, 1, 1));
  src.poll();
  t.equal(src.counts.events, 1);
  fs.renameSync(file, `${file}.1`); // rotated, the new file not there yet
  fs.appendFileSync(`${file}.1`, connect(1001, 2, 2));
  src.poll();
  t.equal(src.counts.events, 2, 'the renamed file is read to its end');
  fs.writeFileSync(file, connect(1002, 3, 3));
  src.poll();
  t.equal(src.counts.events, 3);
  src.close();
});

t.test('follow: appended lines, rotation, truncation', async (t) => {
  const file = path.join(tmp, 'audit.log');
  fs.writeFileSync(file, connect(1000, 1, 1)); // before start: not replayed (tail -F)
  const join = new EndpointJoin(DEFAULT_CONFIG);
  const src = new EndpointFollowSource(file, join, log, { pollMs: 60_000 });
  fs.appendFileSync(file, connect(1001, 2, 2));
  src.poll();
  t.equal(src.counts.events, 1, 'only what was appended');
  fs.appendFileSync(file, connect(1002, 3, 3));
  fs.renameSync(file, `${file}.1`);
  fs.writeFileSync(file, connect(1003, 4, 4));
  src.poll();
  t.equal(src.rotations, 1);
  t.equal(src.counts.events, 3, 'the old file read to its end, the new one from its start');
  fs.truncateSync(file, 0); // copytruncate: emptied in place, then written again
  src.poll();
  t.equal(src.truncations, 1);
  fs.appendFileSync(file, connect(1004, 5, 5));
  src.poll();
  t.equal(src.counts.events, 4);
  src.close();
  t.equal(join.stats.socketEvents, 4);
  t.equal(join.match(flow(1004))?.owner.process.pid, 5, 'the newest fits best');
});

t.test('follow: a rotated file with more backlog than one poll reads is read to its end',
  async (t) => {
    const file = path.join(tmp, 'big.log');
    fs.writeFileSync(file, '');
    const join = new EndpointJoin(DEFAULT_CONFIG);
    const src = new EndpointFollowSource(file, join, log, { pollMs: 60_000 });
    const one = connect(1000, 1, 1).length;
    const n = Math.ceil((MAX_BYTES_PER_POLL * 2.5) / one); // two and a half polls' worth
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(connect(1000 + i / 1000, i + 1, 100 + (i % 1000)));
    fs.appendFileSync(file, lines.join(''));
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, connect(2000, 1, 7));
    for (let i = 0; i < 4; i++) src.poll();
    t.equal(src.rotations, 1);
    t.equal(src.counts.events, n + 1, `all ${n} events of the old file, then the new one's`);
    src.close();
  });

t.test('listener: plain TCP, one stream per connection', async (t) => {
  const join = new EndpointJoin(DEFAULT_CONFIG);
  const src = await EndpointListenSource.start(join, log, { host: '127.0.0.1', port: 0 });
  t.teardown(() => src.close());
  await new Promise<void>((resolve) => {
    const s = net.connect(src.address().port, '127.0.0.1', () => {
      s.write(connect(1000, 1, 5).slice(0, 40)); // a line split across TCP segments
      setTimeout(() => s.end(connect(1000, 1, 5).slice(40)), 20);
    });
    s.on('close', () => resolve());
    s.resume();
  });
  for (let i = 0; i < 200 && src.closedConnections.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  t.same(src.closedConnections.map((c) => [c.events, c.malformed, c.format]),
    [[1, 0, 'auditd']]);
  t.equal(src.counts.events, 1);
});

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: tmp, stdio: 'ignore' });
}

t.test('listener: TLS with client certificates, malformed lines counted', async (t) => {
  // A CA, a server certificate for 127.0.0.1, a client certificate it signed, and a client
  // certificate from another CA that must be refused.
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out',
    'ca.crt', '-subj', '/CN=th-test-ca', '-days', '2');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out',
      `${who}.csr`, '-subj', `/CN=${who === 'server' ? '127.0.0.1' : 'agent-1'}`);
    fs.writeFileSync(path.join(tmp, `${who}.ext`), who === 'server'
      ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key',
      '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', `${who}.ext`);
  }
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue.key', '-out',
    'rogue.crt', '-subj', '/CN=rogue', '-days', '2');
  const p = (f: string) => path.join(tmp, f);
  const join = new EndpointJoin(DEFAULT_CONFIG);
  const src = await EndpointListenSource.start(join, log, {
    host: '127.0.0.1', port: 0,
    tls: { cert: p('server.crt'), key: p('server.key'), ca: p('ca.crt') },
  });
  t.teardown(() => src.close());
  const port = src.address().port;
  const send = (cert: string, key: string, text: string) => new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(p('ca.crt')),
      cert: fs.readFileSync(p(cert)), key: fs.readFileSync(p(key)) }, () => {
      s.end(text);
    });
    s.on('error', (err) => resolve(`error: ${err.message}`));
    s.on('close', () => resolve('closed'));
    s.resume();
  });
  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  };
  await send('client.crt', 'client.key',
    '{"not":"an event"\ngarbage line\n' + connect(1000, 9, 77) + 'type=SYSCALL garbage\n');
  await waitFor(() => src.closedConnections.length === 1);
  const c = src.closedConnections[0];
  t.equal(c.events, 1, 'the good event after garbage');
  t.equal(c.malformed, 3, 'two lines before the format was known, one bad auditd line');
  t.equal(c.format, 'auditd');
  const m = join.match(flow(1000));
  t.equal(m?.owner.process.pid, 77, 'and it joins');
  t.same(m?.forwardingFlags, ['-R 13389:127.0.0.1:3389']);

  const rogue = await send('rogue.crt', 'rogue.key', connect(1000, 10, 88));
  await new Promise((r) => setTimeout(r, 300)); // a refused client leaves no connection
  t.equal(src.closedConnections.length, 1, `a client the CA did not sign is refused (${rogue})`);
  t.equal(join.stats.events, 1);
  t.equal(src.counts.malformed, 3);
});
