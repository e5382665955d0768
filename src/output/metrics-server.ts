// The HTTP side of metrics: GET /metrics (Prometheus text) and GET /healthz (200 "ok" while
// the capture runs and every shard worker is up, 503 naming what is wrong otherwise). Plain
// node:http: two fixed routes need no framework.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SensorMetrics } from './metrics';

/** A scrape that has not sent its request in this long is cut (slowloris). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface ListenAddress {
  host: string;
  port: number;
}

/** What is wrong with the sensor now; empty when healthy. */
export type HealthCheck = () => string[];

export interface MetricsServer {
  /** Where it listens (the real port when 0 was asked for). */
  address: ListenAddress;
  close(): Promise<void>;
}

export class MetricsListenError extends Error {
  readonly code = 'ERR_METRICS_LISTEN';
}

/** Parse `HOST:PORT` (`[::1]:9100` for IPv6); throws a message naming the rule. */
export function parseListenAddress(v: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) {
    throw new Error('expected HOST:PORT (IPv6 as [ADDR]:PORT), port 0 to 65535');
  }
  return { host: m[1] ?? m[2], port };
}

export function startMetricsServer(at: ListenAddress, metrics: SensorMetrics,
  health: HealthCheck): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (url === '/metrics') {
      metrics.text().then((text) => {
        res.writeHead(200, { 'content-type': metrics.contentType }).end(text);
      }, (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`);
      });
    } else if (url === '/healthz') {
      const problems = health();
      res.writeHead(problems.length === 0 ? 200 : 503, { 'content-type': 'text/plain' })
        .end(problems.length === 0 ? 'ok\n' : problems.join('\n') + '\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /healthz\n');
    }
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new MetricsListenError(`--metrics ${at.host}:${at.port}: cannot listen ` +
        `(${err.code ?? err.message})`));
    });
    server.listen(at.port, at.host, () => {
      const a = server.address() as AddressInfo;
      resolve({
        address: { host: a.address, port: a.port },
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
