// Entry point of one shard worker thread: owns one flow table outright.

import { parentPort, workerData } from 'node:worker_threads';
import { FlowRecord } from '../flow/flow-record';
import { FromShard, ShardInit, ToShard } from './messages';
import { ShardProcessor } from './shard-processor';

const init = workerData as ShardInit;
let pending: FlowRecord[] = [];
const processor = new ShardProcessor(init.shard, init.flowTable, (r) => pending.push(r));

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
    reply = { type: 'tick-done', records: take() };
  } else {
    processor.flush();
    reply = { type: 'flushed', records: take(), stats: processor.stats() };
  }
  parentPort!.postMessage(reply);
});
