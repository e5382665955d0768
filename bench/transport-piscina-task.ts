// piscina task for bench/transport-bench.ts: touch the batch the way a shard would (read
// every record header) and hand the buffer back.

import { move } from 'piscina';

export default function task(msg: { buf: ArrayBuffer; bytes: number }): unknown {
  const v = new Uint32Array(msg.buf, 0, msg.bytes >>> 2);
  let sum = 0;
  for (let i = 0; i < v.length; i += 32) sum += v[i];
  if (sum < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return move(msg.buf);
}
