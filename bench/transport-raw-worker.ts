// Plain worker_threads twin of transport-piscina-task.ts for bench/transport-bench.ts.

import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (msg: { buf: ArrayBuffer; bytes: number }) => {
  const v = new Uint32Array(msg.buf, 0, msg.bytes >>> 2);
  let sum = 0;
  for (let i = 0; i < v.length; i += 32) sum += v[i];
  parentPort!.postMessage({ buf: msg.buf, sum }, [msg.buf]);
});
