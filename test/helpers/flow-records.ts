// Replays a capture through one shard (the same code as the sensor's workers) and returns
// the final flow records: for tests that check worker-side features field by field.
import { PcapHandle } from '../../src/capture/pcap';
import { FlowRecord } from '../../src/flow/flow-record';
import { DEFAULT_FLOW_TABLE } from '../../src/flow/flow-table';
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
