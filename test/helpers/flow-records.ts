// Replays a capture through one shard (the same code as the sensor's workers) and returns
// the final flow records: for tests that check worker-side features field by field.
import { PcapHandle } from '../../src/capture/pcap';
import { FlowRecord } from '../../src/flow/flow-record';
import { DEFAULT_FLOW_TABLE } from '../../src/flow/flow-table';
import { PROTO } from '../../src/protocols/identify';
import { ShardProcessor } from '../../src/pipeline/shard-processor';

const BATCH_BYTES = 4 * 1024 * 1024;

export function replayRecords(file: string, all = false): FlowRecord[] {
  const out: FlowRecord[] = [];
  const shard = new ShardProcessor(0, DEFAULT_FLOW_TABLE, (r) => {
    if (all || r.final) out.push(r);
  });
  const handle = PcapHandle.openFile(file);
  const linkType = handle.datalink().type;
  const buf = new Uint8Array(BATCH_BYTES);
  try {
    for (;;) {
      const batch = handle.readBatch(buf, 100_000);
      shard.processBatch(buf, batch.bytes, linkType);
      if (batch.eof) break;
    }
  } finally {
    handle.close();
  }
  shard.flush();
  return out;
}

/**
 * A finished SSH flow from 10.77.0.1 to 10.77.0.2:443 at t = 1000-1010 s with its SYN seen,
 * for tests that need a record without a capture; `over` sets what the test is about.
 */
export function flowRecord(over: Partial<FlowRecord>): FlowRecord {
  return {
    flowId: 'f1', reportSeq: 0, final: true, reason: 'closed',
    clientIp: '10.77.0.1', clientPort: 40000, serverIp: '10.77.0.2', serverPort: 443,
    ipProto: 6, vlan: -1, firstTs: 1000, lastTs: 1010,
    packets: [10, 10], bytes: [20000, 30000], payloadBytes: [10000, 20000], history: 'ShADadFf',
    protoByDir: [PROTO.SSH, PROTO.SSH], identifiedAt: [1, 1], entropy: [-1, -1],
    entropySample: [0, 0], head: ['', ''],
    ...over,
  };
}
