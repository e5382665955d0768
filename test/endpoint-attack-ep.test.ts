// Regressions found by attacking the endpoint feed as a hostile user (branch attack-ep):
// each test is one bug, with the input that showed it.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { EndpointEvent } from '../src/endpoint/event';
import { EndpointJoin } from '../src/endpoint/join';
import { LineFeed } from '../src/endpoint/line-feed';
import { EndpointListenSource, MAX_CONNECTIONS } from '../src/endpoint/source-listen';
import { makeLogger } from '../src/cli/log';
import { FlowRecord } from '../src/flow/flow-record';
import { runCli } from './helpers/cli';
import { flowRecord } from './helpers/flow-records';

/** The flow of these tests: ssh from 10.77.0.1:59368 to 10.77.0.2:22. */
function rec(over: Partial<FlowRecord>): FlowRecord {
  return flowRecord({ clientPort: 59368, serverPort: 22, ...over });
}

function connect(ts: number, pid: number, cmd: string, srcPort?: number): EndpointEvent {
  return {
    '@timestamp': new Date(ts * 1000).toISOString(), ts, host: { name: 'client' },
    platform: 'linux',
    process: { pid, name: 'ssh', executable: '/usr/bin/ssh', command_line: cmd },
    event: { action: 'connect', module: 'test' },
    source: srcPort === undefined ? undefined : { ip: '10.77.0.1', port: srcPort },
    destination: { ip: '10.77.0.2', port: 22 },
    network: { transport: 'tcp' },
  };
}

t.test('an earlier forwarder to the same server does not take over the flow', async (t) => {
  // ssh -L connected to the same sshd 200 s before; this flow is a plain ssh (-W).
  const decoy = connect(800, 999, 'ssh -L 8080:127.0.0.1:80 root@10.77.0.2');
  const plain = 'ssh -W 127.0.0.1:2222 root@10.77.0.2';

  let j = new EndpointJoin(DEFAULT_CONFIG);
  j.add(decoy);
  j.add(connect(999.997, 12139, plain, 59368));
  let m = j.match(rec({}));
  t.equal(m?.owner.process.pid, 12139, 'the exact owner wins');
  t.equal(m?.strength, 'exact');
  t.same(m?.forwardingFlags, []);

  j = new EndpointJoin(DEFAULT_CONFIG);
  j.add(decoy);
  j.add(connect(999.997, 12139, plain));
  m = j.match(rec({}));
  t.equal(m?.owner.process.pid, 12139, 'remote_only: the connect nearest the flow wins');
  t.equal(m?.strength, 'remote_only');
  t.same(m?.forwardingFlags, []);

  j = new EndpointJoin(DEFAULT_CONFIG);
  j.add(decoy);
  t.equal(j.match(rec({})), undefined,
    'alone, a connect 200 s before the SYN is another connection, not this flow');
  m = j.match(rec({ history: 'ADadFf', flowId: 'f2' }));
  t.equal(m?.owner.process.pid, 999, 'picked up mid-stream (no SYN), it is still a candidate');
  t.equal(m?.strength, 'remote_only');
  j = new EndpointJoin(DEFAULT_CONFIG);
  j.add(connect(1000 + DEFAULT_CONFIG.endpoint.clockSkewSec, 999, 'ssh -L 8080:x:80 h'));
  t.equal(j.match(rec({}))?.owner.process.pid, 999, 'a connect within the clock skew matches');
});

const ecsLine = (pid: number) => JSON.stringify({
  '@timestamp': '2024-05-01T10:00:00Z', event: { action: 'connection_attempted' },
  process: { pid, name: 'ssh', command_line: 'ssh -D 1080 h' },
  source: { ip: '10.0.0.1', port: 40000 }, destination: { ip: '10.0.0.2', port: 22 },
  network: { transport: 'tcp', direction: 'egress' },
});

function feed(text: string): { pids: number[]; bad: number[]; malformed: number } {
  const pids: number[] = [];
  const bad: number[] = [];
  const f = new LineFeed((e) => pids.push(e.process.pid!), (n) => bad.push(n));
  f.write(text);
  f.end();
  return { pids, bad, malformed: f.counts.malformed };
}

t.test('a truncated JSON value does not swallow the NDJSON lines after it', async (t) => {
  // The agent died mid-write on the first line: every later line nested into the open value.
  const cut = '{"@timestamp":"2024-05-01T10:00:00Z","event":{"action":';
  let r = feed(`${cut}\n${ecsLine(1)}\n${ecsLine(2)}\n${ecsLine(3)}\n`);
  t.same(r.pids, [1, 2, 3], 'truncated first line');
  t.equal(r.malformed, 1);
  r = feed(`${ecsLine(1)}\n${cut}\n${ecsLine(2)}\n`);
  t.same(r.pids, [1, 2], 'truncated line in the middle');
  t.equal(r.malformed, 1);
  r = feed(`[\n${ecsLine(1)},\n${cut}\n${ecsLine(2)},\n${ecsLine(3)}\n]\n`);
  t.same(r.pids, [1, 2, 3], 'truncated element of an array, one element a line');
  t.equal(r.malformed, 1);
  // A pretty-printed document still frames as one value (nested objects are indented).
  const pretty = JSON.stringify(JSON.parse(ecsLine(4)), null, 2);
  r = feed(`${pretty}\n${pretty}\n`);
  t.same(r.pids, [4, 4]);
  t.equal(r.malformed, 0);
});

t.test('a JSON export opened on a line of its own is not garbage', async (t) => {
  let r = feed(`[\n${ecsLine(1)},\n${ecsLine(2)}\n]\n`);
  t.same(r.pids, [1, 2]);
  t.equal(r.malformed, 0, 'the [ and ] are the document');
  r = feed(`{"events": [\n  ${ecsLine(1)},\n  ${ecsLine(2)}\n]}\n`);
  t.same(r.pids, [1, 2]);
  t.equal(r.malformed, 0, 'the {"events": [ wrapper too');
  r = feed(`junk\n[\n${ecsLine(1)}\n]\n`);
  t.same(r.pids, [1]);
  t.same(r.bad, [1], 'garbage before the opener still is');
});

t.test('lines the reader rejects are reported with their line numbers', async (t) => {
  const r = feed(`${ecsLine(1)}\ngarbage\n${ecsLine(2)}\n{"broken":\n${ecsLine(3)}\n`);
  t.same(r.pids, [1, 2, 3]);
  t.same(r.bad, [2, 4]);
  t.equal(r.malformed, 2);
});

t.test('endpoint parse reads on past more garbage lines than detection looks at', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-attack-ep-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'junk.ndjson');
  const junk = Array.from({ length: 60 }, (_, i) => `junk ${i}`).join('\n');
  fs.writeFileSync(file, `${junk}\n${ecsLine(1)}\n${ecsLine(2)}\n`);
  const r = await runCli(['endpoint', 'parse', file]);
  t.equal(r.code, 0, 'the sensor\'s feed reads this file; its check must too');
  t.match(r.stderr, /format=ecs events=2 malformed=60 lines=62/);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.same(lines.map((e) => e.event.line), [61, 62], 'line numbers after the skipped ones');
  const only = path.join(dir, 'only-junk.txt');
  fs.writeFileSync(only, `${junk}\n`);
  const none = await runCli(['endpoint', 'parse', only]);
  t.equal(none.code, 2);
  t.match(none.stderr, /cannot tell the format/);
});

t.test('listener: silent connections time out instead of locking agents out', async (t) => {
  const join = new EndpointJoin(DEFAULT_CONFIG);
  const log = makeLogger('silent');
  const src = await EndpointListenSource.start(join, log, { host: '127.0.0.1', port: 0,
    idleTimeoutSec: 1 });
  t.teardown(() => src.close());
  const port = src.address().port;
  // Fill every slot with clients that connect and never write (or peers that vanished).
  const idle: net.Socket[] = [];
  await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => new Promise<void>((res) => {
    const s = net.connect(port, '127.0.0.1', () => res());
    s.on('error', () => {});
    idle.push(s);
  })));
  t.teardown(() => idle.forEach((s) => s.destroy()));
  await new Promise((r) => setTimeout(r, 1500)); // past the idle timeout
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(`${ecsLine(9)}\n`));
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.resume();
  });
  for (let i = 0; i < 100 && src.counts.events === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal(src.counts.events, 1, 'the agent after them is heard');
  t.equal(src.refused, 0);
});
