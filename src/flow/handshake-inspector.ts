// Deep inspection of a flow's first bytes: reassembles each direction of a TLS or SSH flow
// (or collects a QUIC client's Initial packets) until the handshake parsers have what they
// need, then computes the fingerprints and lets go. Inspectors come from a bounded pool, so a
// flood of handshakes costs a counter, never memory; once a flow is fingerprinted (or given
// up on) it is back on the fast path.

import { FlowFingerprints } from '../fingerprints/types';
import { sshFingerprints } from '../fingerprints/hassh';
import { tlsFingerprints } from '../fingerprints/tls';
import { PROTO } from '../protocols/identify';
import { QuicInitialAssembler } from '../protocols/quic/initial';
import { quicClientHello } from '../protocols/quic/client-hello';
import { parseSshHandshake } from '../protocols/ssh/handshake';
import { SshHandshake, SshKexInit } from '../protocols/ssh/types';
import { parseTlsClientHello, parseTlsServerFlight } from '../protocols/tls/handshake';
import { TlsClientHello, TlsServerHello } from '../protocols/tls/types';
import { TcpStream } from './tcp-stream';

/** Payload packets per direction an inspector waits for before it gives up. */
export const MAX_INSPECT_PACKETS = 24;

const enum Side {
  Pending = 0,
  Done = 1,
}

export class HandshakeInspector {
  proto = 0;
  private readonly streams = [new TcpStream(), new TcpStream()];
  private readonly quic = new QuicInitialAssembler();
  private readonly side = [Side.Pending, Side.Pending];
  private readonly packets = [0, 0];
  private clientHello: TlsClientHello | undefined;
  private serverHello: TlsServerHello | undefined;
  private ssh: [SshHandshake | undefined, SshHandshake | undefined] = [undefined, undefined];

  reset(proto: number): void {
    this.proto = proto;
    this.streams[0].reset();
    this.streams[1].reset();
    this.quic.reset();
    this.side[0] = Side.Pending;
    this.side[1] = Side.Pending;
    this.packets[0] = 0;
    this.packets[1] = 0;
    this.clientHello = undefined;
    this.serverHello = undefined;
    this.ssh = [undefined, undefined];
  }

  /** True once both directions are parsed or given up on. */
  get finished(): boolean {
    return this.side[0] === Side.Done && this.side[1] === Side.Done;
  }

  /** Feed one TCP segment (or UDP datagram for QUIC) of direction `dir` (0 = client). */
  add(dir: number, seq: number, syn: boolean, buf: Uint8Array, off: number, len: number): void {
    if (this.side[dir] === Side.Done) return;
    if (++this.packets[dir] > MAX_INSPECT_PACKETS) {
      this.side[dir] = Side.Done;
      return;
    }
    if (this.proto === PROTO.QUIC) {
      this.addQuic(dir, buf, off, len);
      return;
    }
    const s = this.streams[dir];
    if (!s.add(seq, syn, buf, off, len)) return;
    this.parse(dir, s);
  }

  private parse(dir: number, s: TcpStream): void {
    const n = s.contiguous;
    let status: string;
    if (this.proto === PROTO.SSH) {
      const r = parseSshHandshake(s.bytes, 0, n);
      status = r.status;
      if (r.status === 'ok') this.ssh[dir] = r.record;
    } else if (dir === 0) {
      const r = parseTlsClientHello(s.bytes, 0, n);
      status = r.status;
      if (r.status === 'ok') this.clientHello = r.record;
    } else {
      // A full buffer will get no more bytes: take the ServerHello without the certificate.
      const r = parseTlsServerFlight(s.bytes, 0, n, s.full);
      status = r.status;
      if (r.status === 'ok') this.serverHello = r.record;
    }
    // A stream that filled its buffer without completing will not complete.
    if (status !== 'need-more' || s.full) this.side[dir] = Side.Done;
  }

  private addQuic(dir: number, buf: Uint8Array, off: number, len: number): void {
    if (dir === 1) {
      // gap: the server's Initial (ServerHello) is not decrypted: its keys come from the
      // same connection id, but no JA4 or JA3S needs it for QUIC today.
      this.side[1] = Side.Done;
      return;
    }
    const r = this.quic.push(buf, off, len);
    if (r.status === 'need-more') return;
    this.side[0] = Side.Done;
    if (r.status === 'ok') {
      const ch = quicClientHello(r.record);
      if (ch !== undefined) this.clientHello = ch;
    }
  }

  /** Both sides' SSH_MSG_KEXINIT, when this inspected SSH and parsed them. */
  sshKexInits(): [SshKexInit | undefined, SshKexInit | undefined] {
    return [this.ssh[0]?.kexinit, this.ssh[1]?.kexinit];
  }

  /** Fingerprints from what was parsed so far (undefined when nothing was). */
  result(): FlowFingerprints | undefined {
    if (this.proto === PROTO.SSH) {
      if (this.ssh[0] === undefined && this.ssh[1] === undefined) return undefined;
      return { ssh: sshFingerprints(this.ssh[0], this.ssh[1]) };
    }
    const server = this.streams[1];
    if (this.proto === PROTO.TLS && this.serverHello === undefined && server.contiguous > 0) {
      // The flow ends (or is reported) while the certificate is still incomplete: what the
      // server sent is all there will be, so the ServerHello counts without it.
      const r = parseTlsServerFlight(server.bytes, 0, server.contiguous, true);
      if (r.status === 'ok') this.serverHello = r.record;
    }
    if (this.clientHello === undefined && this.serverHello === undefined) return undefined;
    const transport = this.proto === PROTO.QUIC ? 'q' : 't';
    return { tls: tlsFingerprints(this.clientHello, this.serverHello, transport) };
  }
}

/** Which protocols get an inspector. */
export function wantsInspection(proto: number): boolean {
  return proto === PROTO.TLS || proto === PROTO.SSH || proto === PROTO.QUIC;
}

/** A fixed number of inspectors, handed out and returned by index. */
export class InspectorPool {
  private readonly all: HandshakeInspector[] = [];
  private readonly free: number[] = [];
  /** Flows that needed an inspector when none was free. */
  exhausted = 0;

  constructor(readonly size: number) {
    // Built lazily: most tables never need the whole pool, and each holds two 16 KiB buffers.
    for (let i = size - 1; i >= 0; i--) this.free.push(i);
  }

  acquire(proto: number): number {
    const i = this.free.pop();
    if (i === undefined) {
      this.exhausted++;
      return -1;
    }
    let ins = this.all[i];
    if (ins === undefined) ins = this.all[i] = new HandshakeInspector();
    ins.reset(proto);
    return i;
  }

  get(i: number): HandshakeInspector {
    return this.all[i];
  }

  release(i: number): void {
    this.free.push(i);
  }
}
