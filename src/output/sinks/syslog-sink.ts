// Syslog transport: RFC 5424 messages over UDP (RFC 5426), TCP (RFC 6587) or TLS (RFC 5425).
// It only moves bytes: `send()` resolves once the batch is written to the socket and rejects
// when the receiver is unreachable; retry, backoff and spooling are the DeliveryQueue's.

import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { cefLine } from './cef';
import { DeliveryOptions, DeliveryQueue } from './delivery';
import type { Sink } from './sink';
import type { EcsDocument } from '../ecs-schema';
import {
  DocHeader, FACILITY_LOCAL0, SyslogOrigin, defaultOrigin, docHeader, octetCounted,
  syslogMessage, udpDatagram,
} from './syslog';

/** A TCP or TLS connect (handshake included) that takes longer counts as receiver down. */
/**
 * How long close() lets a connection end politely. Every line counted as sent is already in
 * the kernel (send() resolves on the write callback), so waiting longer only delays exit, as a
 * TLS handshake hanging on a plain-TCP receiver did for 5 s.
 */
export const CLOSE_GRACE_MS = 500;
export const CONNECT_TIMEOUT_MS = 5000;
/** A batch the receiver does not take within this time: it stopped reading; reconnect. */
export const WRITE_TIMEOUT_MS = 10000;

export type SyslogProtocol = 'udp' | 'tcp' | 'tls';
export type SyslogFormat = 'json' | 'cef';

export interface SyslogEndpoint { protocol: SyslogProtocol; host: string; port: number }

export interface SyslogTransportOptions extends SyslogEndpoint {
  format: SyslogFormat;
  /** PEM contents, already read (see readTlsFiles). */
  ca?: Buffer; cert?: Buffer; key?: Buffer;
  /** TLS SNI and the name checked in the server certificate; defaults to the host. */
  servername?: string;
  facility?: number;
  /** The product version in the CEF header; defaults to package.json's. */
  productVersion?: string;
}

/** An error the user caused, with a stable code (STYLE 13). */
export class SinkConfigError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const URL_RULE = 'expected udp://host:port, tcp://host:port or tls://host:port ' +
  '(port 1-65535, nothing after the port)';

/** Parses a syslog sink URL; a bad one is an Error with code ERR_SINK_URL naming it. */
export function parseSyslogUrl(url: string): SyslogEndpoint {
  const bad = () => new SinkConfigError('ERR_SINK_URL', `syslog sink url "${url}": ${URL_RULE}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad();
  }
  const protocol = u.protocol.slice(0, -1);
  if (protocol !== 'udp' && protocol !== 'tcp' && protocol !== 'tls') throw bad();
  if (u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '') throw bad();
  if (u.pathname !== '' && u.pathname !== '/') throw bad();
  // URL() keeps a port of 1-65535 and drops the empty one; 0 is kept as "0".
  const port = Number(u.port);
  if (u.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65535) throw bad();
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { protocol, host, port };
}

/** Reads the PEM files named by the options; a missing one is ERR_SINK_TLS_FILE. */
export function readTlsFiles(o: { caFile?: string; certFile?: string; keyFile?: string }):
  { ca?: Buffer; cert?: Buffer; key?: Buffer } {
  const read = (opt: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new SinkConfigError('ERR_SINK_TLS_FILE',
        `syslog sink ${opt} "${file}": cannot be read (${(e as Error).message})`);
    }
  };
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) {
    throw new SinkConfigError('ERR_SINK_TLS_FILE',
      'syslog sink certFile and keyFile: give both (client certificate) or neither');
  }
  return { ca: read('caFile', o.caFile), cert: read('certFile', o.certFile),
    key: read('keyFile', o.keyFile) };
}

function packageVersion(): string {
  try {
    // dist/src/output/sinks -> the package root.
    return String(require(path.join(__dirname, '../../../../package.json')).version);
  } catch {
    return '0';
  }
}

/** Counters of the transport itself (the queue counts documents). */
export interface SyslogTransportStats { truncated: number; connects: number }

type StreamSocket = net.Socket | tls.TLSSocket;

export class SyslogTransport {
  private readonly origin: SyslogOrigin;
  private readonly version: string;
  private stream: StreamSocket | null = null;
  /** A connect in progress, shared so two sends never open two connections. */
  private connecting: Promise<StreamSocket> | null = null;
  private udp: dgram.Socket | null = null;
  private readonly counters: SyslogTransportStats = { truncated: 0, connects: 0 };

  constructor(private readonly o: SyslogTransportOptions) {
    this.origin = defaultOrigin(o.facility ?? FACILITY_LOCAL0);
    this.version = o.productVersion ?? packageVersion();
  }

  stats(): SyslogTransportStats {
    return { ...this.counters };
  }

  /** The syslog message for one ECS line; a line that is not ECS JSON is sent as it is. */
  message(line: string): string {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      return syslogMessage(this.origin, docHeader(undefined), line);
    }
    const h: DocHeader = docHeader(doc);
    if (this.o.format === 'json') return syslogMessage(this.origin, h, line);
    try {
      return syslogMessage(this.origin, h, cefLine(doc as EcsDocument, this.version));
    } catch {
      return syslogMessage(this.origin, h, line); // not shaped like our ECS: JSON as is
    }
  }

  async send(lines: string[]): Promise<void> {
    const msgs = lines.map((l) => this.message(l));
    if (this.o.protocol === 'udp') return this.sendUdp(msgs);
    // Known gap: the write callback means the kernel took the bytes, not that the receiver
    // did. RFC 6587 has no acknowledgement, so a batch written just before the receiver
    // closes the connection can be lost; rsyslog's RELP would close that gap.
    const sock = this.stream ?? await this.connectOnce();
    const buf = Buffer.concat(msgs.map(octetCounted));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drop(sock);
        reject(new Error(`syslog ${this.where()}: write not taken in ${WRITE_TIMEOUT_MS} ms`));
      }, WRITE_TIMEOUT_MS);
      sock.write(buf, (err) => {
        clearTimeout(timer);
        if (err) {
          this.drop(sock);
          reject(err);
        } else {
          resolve();
        }
      });
    });
  }

  async close(): Promise<void> {
    const s = this.stream;
    this.stream = null;
    if (s !== null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { s.destroy(); resolve(); }, CLOSE_GRACE_MS);
        s.end(() => { clearTimeout(timer); s.destroy(); resolve(); });
      });
    }
    const u = this.udp;
    this.udp = null;
    if (u !== null) await new Promise<void>((resolve) => u.close(() => resolve()));
  }

  private where(): string {
    return `${this.o.protocol}://${this.o.host}:${this.o.port}`;
  }

  private drop(sock: StreamSocket): void {
    if (this.stream === sock) this.stream = null;
    sock.destroy();
  }

  private connectOnce(): Promise<StreamSocket> {
    this.connecting ??= this.connect().finally(() => { this.connecting = null; });
    return this.connecting;
  }

  private connect(): Promise<StreamSocket> {
    const { host, port } = this.o;
    return new Promise<StreamSocket>((resolve, reject) => {
      const ready = this.o.protocol === 'tls' ? 'secureConnect' : 'connect';
      const sock: StreamSocket = this.o.protocol === 'tls'
        ? tls.connect({ host, port, ca: this.o.ca, cert: this.o.cert, key: this.o.key,
          servername: this.o.servername ?? (net.isIP(host) ? undefined : host) })
        : net.connect({ host, port });
      const fail = (err: Error) => {
        clearTimeout(timer);
        sock.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(
        `syslog ${this.where()}: no connection in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      sock.once('error', fail);
      sock.once(ready, () => {
        clearTimeout(timer);
        sock.off('error', fail);
        // From here on an error or a close only marks the socket down: the next send
        // reconnects. Nothing is thrown from these handlers.
        sock.on('error', () => this.drop(sock));
        sock.on('close', () => this.drop(sock));
        sock.on('end', () => this.drop(sock));
        sock.resume(); // a syslog receiver sends nothing; discard whatever comes
        this.stream = sock;
        this.counters.connects++;
        resolve(sock);
      });
    });
  }

  private async sendUdp(msgs: string[]): Promise<void> {
    if (this.udp === null) {
      const sock = dgram.createSocket(net.isIPv6(this.o.host) ? 'udp6' : 'udp4');
      // An error (ICMP unreachable on a later send) retires the socket; the next send
      // opens a new one.
      sock.on('error', () => {
        if (this.udp === sock) this.udp = null;
        try { sock.close(); } catch { /* already closed */ }
      });
      this.udp = sock;
    }
    const sock = this.udp;
    for (const m of msgs) {
      const { buf, cut } = udpDatagram(m);
      if (cut) this.counters.truncated++;
      await new Promise<void>((resolve, reject) => {
        sock.send(buf, this.o.port, this.o.host, (err) => (err ? reject(err) : resolve()));
      });
    }
  }
}

export interface SyslogSinkOptions {
  /** Names the sink in stats and its spool files; default `syslog`. */
  name?: string;
  url: string;
  format: SyslogFormat;
  /** PEM files for tls:// only: the CA to verify the receiver, and a client certificate. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  servername?: string;
  spoolDir?: string;
  /** RFC 5424 §6.2.1 facility 0-23; default local0 (16). */
  facility?: number;
  /** Batch, memory, spool and backoff limits (DELIVERY_DEFAULTS otherwise). */
  delivery?: Partial<Omit<DeliveryOptions, 'name' | 'spoolDir'>>;
}

/** RFC 5424 §6.2.1: facilities are 0 to 23. */
const MAX_FACILITY = 23;

/**
 * A syslog Sink: the transport behind a DeliveryQueue (batching, retry with backoff, spool).
 * Throws, before anything is opened, SinkConfigError ERR_SINK_URL, ERR_SINK_OPTION or
 * ERR_SINK_TLS_FILE for options the user got wrong.
 */
export function createSyslogSink(o: SyslogSinkOptions): Sink {
  const name = o.name ?? 'syslog';
  const ep = parseSyslogUrl(o.url);
  const tlsOpts = ['caFile', 'certFile', 'keyFile', 'servername'] as const;
  const misplaced = tlsOpts.find((k) => o[k] !== undefined);
  if (ep.protocol !== 'tls' && misplaced !== undefined) {
    throw new SinkConfigError('ERR_SINK_OPTION',
      `syslog sink ${name}: ${misplaced} applies to tls:// only, the url is ${o.url}`);
  }
  const facility = o.facility ?? FACILITY_LOCAL0;
  if (!Number.isInteger(facility) || facility < 0 || facility > MAX_FACILITY) {
    throw new SinkConfigError('ERR_SINK_OPTION',
      `syslog sink ${name}: facility must be an integer 0-${MAX_FACILITY}, got ${facility}`);
  }
  if (o.format !== 'json' && o.format !== 'cef') {
    throw new SinkConfigError('ERR_SINK_OPTION',
      `syslog sink ${name}: format must be json or cef, got ${String(o.format)}`);
  }
  const transport = new SyslogTransport({
    ...ep, format: o.format, facility, servername: o.servername, ...readTlsFiles(o),
  });
  return new DeliveryQueue(transport, { ...o.delivery, name, spoolDir: o.spoolDir });
}
