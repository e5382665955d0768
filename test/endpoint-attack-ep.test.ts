// Regressions found by attacking the endpoint feed as a hostile user (branch attack-ep):
// each test is one bug, with the input that showed it.

import t from 'tap';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { EndpointEvent } from '../src/endpoint/event';
import { EndpointJoin } from '../src/endpoint/join';
import { FlowRecord } from '../src/flow/flow-record';
import { PROTO } from '../src/protocols/identify';

function rec(over: Partial<FlowRecord>): FlowRecord {
  return {
    flowId: 'f1', reportSeq: 0, final: true, reason: 'closed',
    clientIp: '10.77.0.1', clientPort: 59368, serverIp: '10.77.0.2', serverPort: 22,
    ipProto: 6, vlan: -1, firstTs: 1000, lastTs: 1010,
    packets: [10, 10], bytes: [20000, 30000], payloadBytes: [10000, 20000], history: 'ShADadFf',
    protoByDir: [PROTO.SSH, PROTO.SSH], identifiedAt: [1, 1], entropy: [-1, -1],
    entropySample: [0, 0], head: ['', ''],
    ...over,
  };
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
  m = j.match(rec({}));
  t.equal(m?.owner.process.pid, 999, 'alone, the forwarder is still a remote_only candidate');
  t.equal(m?.strength, 'remote_only');
});
