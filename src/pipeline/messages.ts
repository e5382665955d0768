// Typed messages between the dispatcher (main thread) and shard workers. Packet batches move
// as transferred ArrayBuffers and come back for reuse, so nothing is copied twice.

import { FlowRecord } from '../flow/flow-record';
import { FlowTableOptions } from '../flow/flow-table';
import { ShardStats } from './shard-processor';

export interface ShardInit {
  shard: number;
  flowTable: FlowTableOptions;
}

export type ToShard =
  | { type: 'batch'; buf: ArrayBuffer; bytes: number; linkType: number }
  | { type: 'tick'; now: number }
  | { type: 'flush' };

export type FromShard =
  | { type: 'records'; records: FlowRecord[] }
  | { type: 'batch-done'; buf: ArrayBuffer; records: FlowRecord[] }
  | { type: 'tick-done'; records: FlowRecord[]; stats: ShardStats }
  | { type: 'flushed'; records: FlowRecord[]; stats: ShardStats };
