// Entry point of one shard worker thread: owns one flow table outright.

import { parentPort, workerData } from 'node:worker_threads';
import { FlowRecord } from '../flow/flow-record';
import { FromShard, ShardInit, ToShard } from './messages';
import { ShardProcessor } from './shard-processor';

const init = workerData as ShardInit;
/**
 * Records travel in chunks of this many: a flush of a million live flows as one message
 * once cost 2.5 GB of structured-clone buffers (bench/README.md, syn-1m).
 */
const RECORD_CHUNK = 1024;

let pending: FlowRecord[] = [];
const processor = new ShardProcessor(init.shard, init.flowTable, (r) => {
  pending.push(r);
  if (pending.length >= RECORD_CHUNK) {
    parentPort!.postMessage({ type: 'records', records: take() } satisfies FromShard);
  }
});

function take(): FlowRecord[] {
  const out = pending;
  pending = [];
  return out;
}

parentPort!.on('message', (msg: ToShard) => {
  let reply: FromShard;
  if (msg.type === 'batch') {
    processor.processBatch(new Uint8Array(msg.buf), msg.bytes, msg.linkType);
    reply = { type: 'batch-done', buf: msg.buf, records: take() };
    parentPort!.postMessage(reply, [msg.buf]);
    return;
  }
  if (msg.type === 'tick') {
    processor.advance(msg.now);
    // The statistics ride along once a tick: the main thread's view of the shard (flows
    // held, for metrics and for what a crash would lose).
    reply = { type: 'tick-done', records: take(), stats: processor.stats() };
  } else {
    processor.flush();
    reply = { type: 'flushed', records: take(), stats: processor.stats() };
  }
  parentPort!.postMessage(reply);
});
