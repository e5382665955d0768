// Typed wrapper over the libpcap addon (native/, built to build/Release/tunnelhound_pcap.node).
// Arguments are checked here with errors a user can act on, and again in C++ at the
// boundary. Packets travel in batches laid out as in batch-format.ts, never one per call.
import fs from 'node:fs';
import path from 'node:path';

import { RECORD_HEADER_BYTES, recordSize } from './batch-format';

export interface DatalinkInfo {
  /** DLT_ value from pcap_datalink (1 Ethernet, 113 Linux SLL, 276 SLL2, 12 raw IP, ...). */
  type: number;
  /** libpcap's short name (EN10MB, LINUX_SLL, RAW), or DLT_<type> when it has none. */
  name: string;
  /** libpcap's description, or the name when it has none. */
  description: string;
}

/** Counters from pcap_stats; u32 in libpcap, so they wrap on a long-running capture. */
export interface CaptureStats {
  /** Packets the kernel passed to the capture (after the BPF filter). */
  received: number;
  /** Packets dropped because the capture buffer was full. */
  dropped: number;
  /** Packets the interface or its driver dropped. */
  ifDropped: number;
}

export interface BatchResult {
  /** Whole records written to the buffer. */
  packets: number;
  /** Bytes of the buffer used, headers and padding included. */
  bytes: number;
  /** True once a file has no more packets (this batch may still carry some); never live. */
  eof: boolean;
}

export interface LiveOptions {
  /** Interface name as libpcap knows it (eth0, any, ...). */
  device: string;
  /** Bytes kept of each packet; 1 to MAX_SNAPLEN. */
  snaplen?: number;
  /** Put the interface in promiscuous mode. */
  promiscuous?: boolean;
  /** Kernel ring size in bytes (pcap_set_buffer_size). */
  bufferSize?: number;
  /** Longest a read waits for traffic before it returns an empty batch. */
  timeoutMs?: number;
}

/** Defaults for openLive, in one place. */
export const LIVE_DEFAULTS: Readonly<Required<Omit<LiveOptions, 'device'>>> = {
  snaplen: 262_144,
  promiscuous: true,
  bufferSize: 32 * 1024 * 1024,
  timeoutMs: 100,
};

/** libpcap's MAXIMUM_SNAPLEN; larger values are silently lowered by pcap_set_snaplen. */
export const MAX_SNAPLEN = 262_144;
/** Below 64 KiB the ring cannot hold one burst of full-size frames. */
export const MIN_BUFFER_BYTES = 64 * 1024;
/** pcap_set_buffer_size takes a C int. */
export const MAX_BUFFER_BYTES = 2 ** 31 - 1;
/**
 * Ceiling of timeoutMs: worker_threads teardown waits for a read on the pool to finish, so
 * this bounds how long a terminating worker can hang on a quiet link.
 */
export const MAX_TIMEOUT_MS = 1000;
/** One header and one aligned data word: the smallest buffer a read accepts. */
export const MIN_BATCH_BYTES = RECORD_HEADER_BYTES + 8;
/** Default and ceiling of maxPackets: the addon counts packets in a u32. */
export const MAX_BATCH_PACKETS = 2 ** 32 - 1;
/** BPF expressions listing many hosts get long, but not this long. */
export const MAX_FILTER_CHARS = 65_536;

export type CaptureErrorCode =
  | 'ERR_CAPTURE_ARG'
  | 'ERR_CAPTURE_OPEN'
  | 'ERR_CAPTURE_FILTER'
  | 'ERR_CAPTURE_READ'
  | 'ERR_CAPTURE_STATS'
  | 'ERR_CAPTURE_CLOSED'
  | 'ERR_CAPTURE_BUSY'
  | 'ERR_CAPTURE_ADDON'
  | 'ERR_CAPTURE_BATCH';

export class CaptureError extends Error {
  readonly code: CaptureErrorCode;

  constructor(code: CaptureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaptureError';
    this.code = code;
  }
}

interface NativeHandle {
  readonly live: boolean;
  readonly warning: string | null;
  readonly truncatedPackets: number;
  setFilter(expression: string): void;
  datalink(): DatalinkInfo;
  stats(): CaptureStats | null;
  readBatch(buf: Uint8Array, maxPackets: number): BatchResult;
  readBatchAsync(
    buf: Uint8Array,
    maxPackets: number,
    done: (err: Error | null, result?: BatchResult) => void,
  ): void;
  breakLoop(): void;
  close(): void;
}

interface NativeAddon {
  readonly libVersion: string;
  readonly minBatchBytes: number;
  openFile(path: string): NativeHandle;
  openLive(
    device: string,
    snaplen: number,
    promiscuous: boolean,
    bufferSize: number,
    timeoutMs: number,
  ): NativeHandle;
}

const ADDON_RELATIVE_PATHS = [
  'build/Release/tunnelhound_pcap.node',
  'build/Debug/tunnelhound_pcap.node',
];

let addon: NativeAddon | undefined;

// The wrapper runs from src/ (ts-node) and from dist/src/ (compiled), so find the package
// root by walking up to package.json instead of counting '..'.
function findPackageRoot(start: string): string | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function loadAddon(): NativeAddon {
  if (addon) return addon;
  const root = findPackageRoot(__dirname);
  const tried: string[] = [];
  for (const relative of ADDON_RELATIVE_PATHS) {
    const file = root ? path.join(root, relative) : relative;
    tried.push(file);
    if (!fs.existsSync(file)) continue;
    try {
      addon = require(file) as NativeAddon;
      return addon;
    } catch (err) {
      throw new CaptureError('ERR_CAPTURE_ADDON', `cannot load capture addon ${file}: ${err}`, {
        cause: err,
      });
    }
  }
  throw new CaptureError(
    'ERR_CAPTURE_ADDON',
    `capture addon not built (looked for ${tried.join(', ')}); run "npm run install"`,
  );
}

/** libpcap's version string, e.g. "libpcap version 1.10.3 (with TPACKET_V3)". */
export function pcapLibVersion(): string {
  return loadAddon().libVersion;
}

function argError(message: string): CaptureError {
  return new CaptureError('ERR_CAPTURE_ARG', message);
}

function checkCString(value: unknown, what: string, allowEmpty: boolean): string {
  if (typeof value !== 'string') throw argError(`${what} must be a string`);
  if (!allowEmpty && value.length === 0) throw argError(`${what} must not be empty`);
  // libpcap takes C strings: a NUL would silently cut a path or filter short.
  if (value.includes('\0')) throw argError(`${what} must not contain NUL characters`);
  return value;
}

function checkInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw argError(`${what} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function checkBatchBuffer(buf: unknown): Uint8Array {
  if (!(buf instanceof Uint8Array)) throw argError('buffer must be a Uint8Array');
  if (buf.byteLength < MIN_BATCH_BYTES) {
    throw argError(`buffer must hold at least ${MIN_BATCH_BYTES} bytes, got ${buf.byteLength}`);
  }
  return buf;
}

// Native errors carry the same codes; anything without one is a failure of `fallback`.
function asCaptureError(err: unknown, fallback: CaptureErrorCode): CaptureError {
  if (err instanceof CaptureError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const known = typeof code === 'string' && code.startsWith('ERR_CAPTURE_');
  return new CaptureError(known ? (code as CaptureErrorCode) : fallback, message, {
    cause: err,
  });
}

function callNative<T>(fallback: CaptureErrorCode, call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw asCaptureError(err, fallback);
  }
}

export class PcapHandle {
  #native: NativeHandle | undefined;
  #truncatedAtClose = 0;
  readonly live: boolean;
  /** pcap_activate's warning (e.g. promiscuous mode not supported), or null. */
  readonly warning: string | null;

  private constructor(native: NativeHandle) {
    this.#native = native;
    this.live = native.live;
    this.warning = native.warning;
  }

  /** Opens a pcap or pcapng file; timestamps come back in nanoseconds for every format. */
  static openFile(file: string): PcapHandle {
    checkCString(file, 'capture file path', false);
    const lib = loadAddon();
    return new PcapHandle(callNative('ERR_CAPTURE_OPEN', () => lib.openFile(file)));
  }

  /** Opens and activates an interface (needs CAP_NET_RAW). Never in immediate mode. */
  static openLive(opts: LiveOptions): PcapHandle {
    if (typeof opts !== 'object' || opts === null) throw argError('live options must be an object');
    const device = checkCString(opts.device, 'device', false);
    const o = { ...LIVE_DEFAULTS, ...definedOnly(opts) };
    const snaplen = checkInteger(o.snaplen, 'snaplen', 1, MAX_SNAPLEN);
    const bufferSize = checkInteger(o.bufferSize, 'bufferSize', MIN_BUFFER_BYTES, MAX_BUFFER_BYTES);
    const timeoutMs = checkInteger(o.timeoutMs, 'timeoutMs', 1, MAX_TIMEOUT_MS);
    if (typeof o.promiscuous !== 'boolean') throw argError('promiscuous must be a boolean');

    const lib = loadAddon();
    return new PcapHandle(
      callNative('ERR_CAPTURE_OPEN', () =>
        lib.openLive(device, snaplen, o.promiscuous, bufferSize, timeoutMs),
      ),
    );
  }

  /** True once close() has run. */
  get closed(): boolean {
    return this.#native === undefined;
  }

  /** Packets cut to fit because one alone was larger than the whole batch buffer. */
  get truncatedPackets(): number {
    return this.#native?.truncatedPackets ?? this.#truncatedAtClose;
  }

  /** Compiles (optimised) and installs a BPF filter; "" removes filtering. */
  setFilter(expr: string): void {
    checkCString(expr, 'filter', true);
    if (expr.length > MAX_FILTER_CHARS) {
      throw argError(`filter must be at most ${MAX_FILTER_CHARS} characters`);
    }
    const native = this.open();
    callNative('ERR_CAPTURE_FILTER', () => native.setFilter(expr));
  }

  datalink(): DatalinkInfo {
    const native = this.open();
    return callNative('ERR_CAPTURE_READ', () => native.datalink());
  }

  /** Kernel counters of a live capture; null for a file, which has none. */
  stats(): CaptureStats | null {
    const native = this.open();
    return callNative('ERR_CAPTURE_STATS', () => native.stats());
  }

  /**
   * Fills `buf` with whole records and returns at once for a file. On a live handle it
   * blocks the thread for up to timeoutMs; prefer readBatchAsync there.
   */
  readBatch(buf: Uint8Array, maxPackets: number = MAX_BATCH_PACKETS): BatchResult {
    checkBatchBuffer(buf);
    checkInteger(maxPackets, 'maxPackets', 1, MAX_BATCH_PACKETS);
    const native = this.open();
    return callNative('ERR_CAPTURE_READ', () => native.readBatch(buf, maxPackets));
  }

  /**
   * Reads on the libuv pool, so the event loop keeps running. A live read resolves as soon
   * as packets are ready, or with packets: 0 after timeoutMs, or at once after breakLoop().
   * One read per handle at a time; `buf` must not be transferred or reused until it settles.
   */
  readBatchAsync(buf: Uint8Array, maxPackets: number = MAX_BATCH_PACKETS): Promise<BatchResult> {
    return new Promise<BatchResult>((resolve, reject) => {
      checkBatchBuffer(buf);
      checkInteger(maxPackets, 'maxPackets', 1, MAX_BATCH_PACKETS);
      const native = this.open();
      native.readBatchAsync(buf, maxPackets, (err, result) => {
        if (err || !result) reject(asCaptureError(err, 'ERR_CAPTURE_READ'));
        else resolve(result);
      });
    }).catch((err: unknown) => {
      throw asCaptureError(err, 'ERR_CAPTURE_READ');
    });
  }

  /** Ends the read in flight promptly (or the next read, if none is running). */
  breakLoop(): void {
    this.#native?.breakLoop();
  }

  /** Idempotent. A read in flight still settles with its batch; pcap_close runs after it. */
  close(): void {
    const native = this.#native;
    if (!native) return;
    this.#truncatedAtClose = native.truncatedPackets;
    this.#native = undefined;
    native.close();
  }

  private open(): NativeHandle {
    if (!this.#native) throw new CaptureError('ERR_CAPTURE_CLOSED', 'capture handle is closed');
    return this.#native;
  }
}

// Spreading { snaplen: undefined } over the defaults would erase the default.
function definedOnly<T extends object>(obj: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/**
 * Iterates the records of a filled batch: fn(dataOffset, caplen, origlen, tsSec, tsNsec) for
 * each, with no allocation per record. Returns the number of records. Throws
 * ERR_CAPTURE_BATCH if a record runs past `bytes` (the batch was not written by the addon).
 */
export function forEachRecord(
  buf: Uint8Array,
  bytes: number,
  fn: (dataOffset: number, caplen: number, origlen: number, tsSec: number, tsNsec: number) => void,
): number {
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > buf.byteLength) {
    throw argError(`bytes must be an integer from 0 to ${buf.byteLength}, got ${bytes}`);
  }
  let count = 0;
  let at = 0;
  while (at < bytes) {
    if (bytes - at < RECORD_HEADER_BYTES) throw batchError(at, bytes);
    const caplen = readLe32(buf, at);
    // Bound caplen before recordSize: its `&` works in int32 and wraps for caplen >= 2^31.
    if (caplen > bytes - at - RECORD_HEADER_BYTES) throw batchError(at, bytes);
    const size = recordSize(caplen);
    if (size > bytes - at) throw batchError(at, bytes);
    fn(at + RECORD_HEADER_BYTES, caplen, readLe32(buf, at + 4), readLe32(buf, at + 8),
      readLe32(buf, at + 12));
    at += size;
    count += 1;
  }
  return count;
}

function batchError(at: number, bytes: number): CaptureError {
  return new CaptureError('ERR_CAPTURE_BATCH', `batch record at ${at} overruns ${bytes} bytes`);
}

function readLe32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}
