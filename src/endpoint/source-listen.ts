// `--endpoint-listen HOST:PORT`: agents (or a log shipper) push endpoint events over TCP, one
// per line: NDJSON of ECS events or any line format a reader detects (auditd lines...). With
// --endpoint-tls-cert/--endpoint-tls-key the listener speaks TLS; with --endpoint-tls-ca too,
// every client must present a certificate signed by that CA (mutual TLS), else the handshake
// fails. Each connection has its own line stream and format detection; a bad line costs a
// counter and a debug log with its line number, never the connection or the run.

import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Logger } from '../cli/log';
import { EndpointJoin } from './join';
import { FeedCounts, LineFeed } from './line-feed';

/** Agents connected at once; more are refused (each holds a line buffer of up to 64 KB). */
export const MAX_CONNECTIONS = 256;
/**
 * A connection that sends nothing for this long is closed. Without it, peers that vanished
 * (a crashed agent host, a NAT that forgot the flow) or clients that connect and never
 * write held their slot for ever, and at MAX_CONNECTIONS every agent was refused. Shippers
 * reconnect on their next event, so a quiet agent loses nothing.
 */
export const IDLE_TIMEOUT_SEC = 15 * 60;
/** Refused connections are logged once per this many (the first one always). */
const REFUSED_LOG_EVERY = 100;

export interface ListenOptions {
  host: string;
  port: number;
  tls?: { cert: string; key: string; ca?: string };
  format?: string;
  /** Seconds of silence before a connection is closed (default IDLE_TIMEOUT_SEC). */
  idleTimeoutSec?: number;
}

export interface ConnectionCounts {
  remote: string;
  events: number;
  malformed: number;
  format: string | null;
}

export class EndpointListenSource {
  private readonly server: net.Server;
  private readonly live = new Set<{ sock: net.Socket; feed: LineFeed; remote: string }>();
  private done: FeedCounts = { events: 0, malformed: 0, format: null };
  /** Finished connections, newest last (bounded), for tests and the log. */
  readonly closedConnections: ConnectionCounts[] = [];
  refused = 0;

  private constructor(private readonly join: EndpointJoin, private readonly log: Logger,
    private readonly opts: ListenOptions) {
    const onSocket = (sock: net.Socket) => this.accept(sock);
    if (opts.tls !== undefined) {
      const ca = opts.tls.ca;
      this.server = tls.createServer({
        cert: fs.readFileSync(opts.tls.cert), key: fs.readFileSync(opts.tls.key),
        ca: ca === undefined ? undefined : fs.readFileSync(ca),
        requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined,
      }, onSocket);
      this.server.on('tlsClientError', (err) =>
        log.info({ err: err.message }, 'endpoint listener: TLS handshake refused'));
    } else {
      this.server = net.createServer(onSocket);
    }
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.on('drop', (d) => {
      // At the limit node drops the connection unseen; say so, or agents vanish silently.
      if (this.refused++ % REFUSED_LOG_EVERY === 0) {
        log.warn({ remote: `${d?.remoteAddress}:${d?.remotePort}`, refused: this.refused,
          limit: MAX_CONNECTIONS }, 'endpoint listener full: connection refused');
      }
    });
  }

  /** Listens before returning, so a port in use fails the start, not later. */
  static async start(join: EndpointJoin, log: Logger, opts: ListenOptions):
    Promise<EndpointListenSource> {
    const s = new EndpointListenSource(join, log, opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(opts.port, opts.host, () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    s.server.on('error', (err) => log.error({ err }, 'endpoint listener'));
    log.info({ address: s.address() }, 'endpoint listener started');
    return s;
  }

  address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  get counts(): FeedCounts {
    let events = this.done.events;
    let malformed = this.done.malformed;
    for (const c of this.live) {
      events += c.feed.counts.events;
      malformed += c.feed.counts.malformed;
    }
    return { events, malformed, format: null };
  }

  private accept(sock: net.Socket): void {
    const remote = `${sock.remoteAddress}:${sock.remotePort}`;
    const feed = new LineFeed((e) => this.join.add(e), (line, why) =>
      this.log.debug({ remote, line, why }, 'endpoint line skipped'), this.opts.format);
    const conn = { sock, feed, remote };
    this.live.add(conn);
    sock.setEncoding('utf8');
    sock.setKeepAlive(true, 60_000);
    sock.setTimeout((this.opts.idleTimeoutSec ?? IDLE_TIMEOUT_SEC) * 1000, () => {
      this.log.info({ remote }, 'endpoint client idle: closed');
      sock.destroy();
    });
    sock.on('data', (chunk: string) => feed.write(chunk));
    sock.on('error', (err) => this.log.debug({ remote, err: err.message }, 'endpoint client'));
    sock.on('close', () => {
      feed.end();
      this.live.delete(conn);
      const c = feed.counts;
      this.done = { events: this.done.events + c.events,
        malformed: this.done.malformed + c.malformed, format: null };
      this.closedConnections.push({ remote, ...c });
      if (this.closedConnections.length > MAX_CONNECTIONS) this.closedConnections.shift();
      this.log.info({ remote, ...c }, 'endpoint client closed');
    });
  }

  async close(): Promise<void> {
    for (const c of this.live) c.sock.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
