// How batches reach shard workers: one dedicated worker per shard (worker_threads, transfer
// and return of the buffer) against piscina tasks carrying the same transferred buffers.
// Prints batches/s and microseconds per batch for several batch sizes.
//   node dist/bench/transport-bench.js

import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';

const BATCHES = 4000;
const IN_FLIGHT = 4;

async function raw(size: number): Promise<number> {
  const w = new Worker(path.join(__dirname, 'transport-raw-worker.js'));
  const free: ArrayBuffer[] = Array.from({ length: IN_FLIGHT }, () => new ArrayBuffer(size));
  let done = 0;
  let sent = 0;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (free.length > 0 && sent < BATCHES) {
        const buf = free.pop()!;
        w.postMessage({ buf, bytes: size }, [buf]);
        sent++;
      }
    };
    w.on('message', (m: { buf: ArrayBuffer }) => {
      free.push(m.buf);
      if (++done === BATCHES) resolve();
      else pump();
    });
    pump();
  });
  const ns = Number(process.hrtime.bigint() - t0);
  await w.terminate();
  return ns / BATCHES / 1000;
}

async function pooled(size: number): Promise<number> {
  const pool = new Piscina({
    filename: path.join(__dirname, 'transport-piscina-task.js'), minThreads: 1, maxThreads: 1,
  });
  const free: ArrayBuffer[] = Array.from({ length: IN_FLIGHT }, () => new ArrayBuffer(size));
  const t0 = process.hrtime.bigint();
  let sent = 0;
  const runOne = async (): Promise<void> => {
    while (sent < BATCHES) {
      sent++;
      const buf = free.pop()!;
      const r = await pool.run({ buf, bytes: size }, { transferList: [buf] }) as ArrayBuffer;
      free.push(r);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, runOne));
  const ns = Number(process.hrtime.bigint() - t0);
  await pool.destroy();
  return ns / BATCHES / 1000;
}

async function main(): Promise<void> {
  console.log('batch bytes | worker_threads us/batch | piscina us/batch');
  for (const size of [16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024]) {
    await raw(size); // warm-up
    const a = await raw(size);
    const b = await pooled(size);
    console.log(`${String(size).padStart(11)} | ${a.toFixed(1).padStart(23)} | ` +
      `${b.toFixed(1).padStart(16)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
