// SSH session shape: the keystroke size of each cipher and MAC (worked out by hand from RFC
// 4253 section 6 and checked against real captures), the class of every SSH capture of our
// lab and of the public corpus, and hostile input to the worker-side state.

import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import t, { Test } from 'tap';
import { DEFAULT_CONFIG, TunnelhoundConfig } from '../src/config/defaults';
import { configFrom } from '../src/config/load';
import { newDecodedPacket, TCP_FLAG } from '../src/decode/packet';
import { sshAsymmetry } from '../src/detect/rules';
import { HandshakeWalker } from '../src/flow/features/ssh-handshake-walker';
import { SshShape } from '../src/flow/features/ssh-shape';
import { FlowRecord, SshShapeRecord } from '../src/flow/flow-record';
import {
  channelDataSize, negotiatedAlgorithms, sshPacketSize,
} from '../src/protocols/ssh/packet-size';
import type { SshKexInit } from '../src/protocols/ssh/types';
import { classifySshShape, sshSessionShapeSignal } from '../src/signals/ssh-session-shape';
import { CORPUS, PCAPS } from './helpers/cli';
import { replayRecords } from './helpers/flow-records';

t.test('keystroke size per cipher and MAC (one byte of channel data)', async (t) => {
  // [cipher, mac, expected]: 5-byte header + 10-byte payload, padded to the block with at
  // least 4 bytes; AEAD and -etm keep the 4-byte length outside the padded part.
  const cases: Array<[string, string | undefined, number]> = [
    ['chacha20-poly1305@openssh.com', undefined, 4 + 16 + 16],
    ['aes128-gcm@openssh.com', undefined, 4 + 16 + 16],
    ['aes256-gcm@openssh.com', 'hmac-sha2-256', 36], // AEAD ignores the MAC
    ['aes128-ctr', 'hmac-sha2-256', 32 + 32],
    ['aes256-ctr', 'hmac-sha2-512', 32 + 64],
    ['aes128-ctr', 'hmac-sha1', 32 + 20],
    ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com', 4 + 16 + 32],
    ['aes256-ctr', 'umac-64-etm@openssh.com', 4 + 16 + 8],
    ['aes128-ctr', 'umac-128@openssh.com', 32 + 16],
    ['3des-cbc', 'hmac-sha1', 24 + 20], // 8-byte blocks: 15 -> 24
    ['aes128-cbc', 'hmac-md5-96', 32 + 12],
  ];
  for (const [cipher, mac, want] of cases) {
    t.equal(channelDataSize({ cipher, mac, compression: 'none' }, 1), want, `${cipher} ${mac}`);
  }
  // Padding of at least 4: 11 bytes of payload with chacha (5+11-4 = 12 -> 16, pad 4).
  t.equal(sshPacketSize({ cipher: 'chacha20-poly1305@openssh.com' }, 11), 4 + 16 + 16);
  t.equal(sshPacketSize({ cipher: 'chacha20-poly1305@openssh.com' }, 12), 4 + 24 + 16);
  // An inner chacha keystroke (36 bytes) inside an outer chacha channel-data packet.
  t.equal(channelDataSize({ cipher: 'chacha20-poly1305@openssh.com' }, 36), 76);
  // Unknown or unpredictable: -1, never a guess.
  t.equal(channelDataSize({ cipher: 'rot13-cbc', mac: 'hmac-sha1' }, 1), -1);
  t.equal(channelDataSize({ cipher: 'aes128-ctr', mac: 'hmac-whirlpool' }, 1), -1);
  t.equal(channelDataSize({ cipher: 'aes128-ctr' }, 1), -1);
  t.equal(channelDataSize({}, 1), -1);
  t.equal(channelDataSize({ cipher: 'aes128-gcm@openssh.com', compression: 'zlib' }, 1), -1);
  t.equal(sshPacketSize({ cipher: 'aes128-gcm@openssh.com' }, Number.NaN), -1);
  t.equal(sshPacketSize({ cipher: 'aes128-gcm@openssh.com' }, -3), -1);
});

const kexinit = (enc: string[], mac: string[], comp = ['none']): SshKexInit => ({
  cookie: '00'.repeat(16), kex: ['curve25519-sha256'], hostKey: ['ssh-ed25519'],
  encCtoS: enc, encStoC: enc, macCtoS: mac, macStoC: mac, compCtoS: comp, compStoC: comp,
  languagesCtoS: [], languagesStoC: [], firstKexFollows: false,
});

t.test('negotiation: the client list decides, AEAD drops the MAC', async (t) => {
  const client = kexinit(['aes256-ctr', 'chacha20-poly1305@openssh.com'],
    ['hmac-sha2-512', 'hmac-sha2-256']);
  const server = kexinit(['chacha20-poly1305@openssh.com', 'aes256-ctr'], ['hmac-sha2-256']);
  const [c2s, s2c] = negotiatedAlgorithms(client, server);
  t.same(c2s, { cipher: 'aes256-ctr', mac: 'hmac-sha2-256', compression: 'none' });
  t.same(s2c, c2s);
  const aead = negotiatedAlgorithms(kexinit(['aes128-gcm@openssh.com'], ['hmac-sha1']),
    kexinit(['aes128-gcm@openssh.com'], ['hmac-sha1']));
  t.equal(aead[0].mac, undefined);
  const none = negotiatedAlgorithms(kexinit(['aes128-ctr'], ['hmac-sha1']),
    kexinit(['aes256-ctr'], ['hmac-sha1']));
  t.equal(none[0].cipher, undefined, 'nothing in common');
});

interface Expect { cls: string; cipher?: string; keystroke?: number; alert?: string | null }

function sshRecords(file: string): FlowRecord[] {
  return replayRecords(file).filter((r) => r.sshShape !== undefined &&
    r.sshShape.packets[0] + r.sshShape.packets[1] > 0);
}

function checkRecord(t: Test, s: SshShapeRecord): void {
  for (let d = 0; d < 2; d++) {
    const sum = s.keystroke[d] + s.small[d] + s.medium[d] + s.large[d] + s.bulk[d];
    t.equal(sum, s.packets[d], `size buckets add up to the segments (dir ${d})`);
    t.ok(s.echoed[d] <= s.keystroke[d], 'an echo is counted on a keystroke');
    t.ok(s.requestExchanges[d] <= s.exchanges[d], 'request exchanges are exchanges');
  }
}

const cfg: TunnelhoundConfig = DEFAULT_CONFIG;
const signal = sshSessionShapeSignal(cfg);

// Our lab's SSH captures (pcaps/, scripts/make-pcaps.sh and scripts/scenarios/ssh.sh).
const LAB: Record<string, Expect> = {
  'ssh-22.pcap': { cls: 'interactive', keystroke: 36, alert: null },
  'ssh-interactive-22.pcap': { cls: 'interactive', alert: null },
  // aes128-ctr + hmac-sha2-256-etm: 4 + 16 + 32 bytes a keystroke, measured on the wire.
  'ssh-etm-22.pcap': { cls: 'interactive', keystroke: 52, alert: null },
  'scp-22.pcap': { cls: 'file-copy', alert: null },
  'sftp-22.pcap': { cls: 'file-copy', alert: null },
  'ssh-on-443.pcap': { cls: 'unknown', alert: null },
  'ssh-local-forward-22.pcap': { cls: 'forward-local', alert: 'ssh_forward_local' },
  'ssh-L-smb-22.pcap': { cls: 'forward-local', alert: 'ssh_forward_local' },
  'ssh-L-rdp-22.pcap': { cls: 'forward-local', alert: 'ssh_forward_local' },
  'ssh-D-socks-22.pcap': { cls: 'forward-local', alert: 'ssh_forward_local' },
  'ssh-J-nested-22.pcap': { cls: 'forward-local', alert: 'ssh_forward_local' },
  'ssh-reverse-443.pcap': { cls: 'forward-reverse', alert: 'ssh_forward_reverse' },
};

for (const [file, want] of Object.entries(LAB)) {
  t.test(`lab ${file}: ${want.cls}`, async (t) => {
    const records = sshRecords(path.join(PCAPS, file));
    t.equal(records.length, 1, 'one SSH flow');
    const r = records[0];
    const s = r.sshShape as SshShapeRecord;
    t.equal(s.handshake, 'newkeys', 'end of the key exchange found in both directions');
    t.ok(s.algorithmsKnown, 'algorithms from both KEXINITs');
    if (want.keystroke !== undefined) t.same(s.keystrokeBytes, [want.keystroke, want.keystroke]);
    checkRecord(t, s);
    const v = classifySshShape(cfg, s);
    t.equal(v.cls, want.cls, JSON.stringify(s));
    const d = signal.judge({ record: r });
    t.equal(d?.detection ?? null, want.alert ?? null, 'alert');
    for (const e of d?.evidence ?? []) {
      t.ok(typeof e.value === 'number' && typeof e.threshold === 'number' &&
        e.value >= e.threshold, `${e.signal}: ${e.value} reaches ${e.threshold}`);
      if (e.config_key !== null) t.ok(configHas(e.config_key), `config key ${e.config_key}`);
    }
    if (want.cls === 'file-copy' || want.cls === 'interactive') {
      // However long and asymmetric, a copy or a shell is not reported for asymmetry.
      const big: [number, number] = [1e8, 1e3];
      const stretched = { ...r, lastTs: r.firstTs + 3600, payloadBytes: big };
      t.equal(sshAsymmetry(cfg, stretched), null, 'asymmetry rule defers to the shape');
      const shapeOff = { ...cfg.rules.sshSessionShape, enabled: false };
      const off = { ...cfg, rules: { ...cfg.rules, sshSessionShape: shapeOff } };
      t.not(sshAsymmetry(off, stretched), null, 'with the shape rule off, asymmetry fires');
    }
  });
}

function configHas(key: string): boolean {
  let o: unknown = DEFAULT_CONFIG;
  for (const k of key.split('.')) {
    if (typeof o !== 'object' || o === null || !(k in o)) return false;
    o = (o as Record<string, unknown>)[k];
  }
  return typeof o === 'number';
}

// The public corpus: FoxIO's ssh-r.pcap holds a plain interactive session with aes256-ctr
// and hmac-sha2-256 (64-byte keystrokes) and a session typed from the server's side through
// a reverse forward; the others are interactive sessions.
const minPackets = cfg.rules.sshSessionShape.minPackets;
t.test('public corpus SSH captures', { skip: !fs.existsSync(CORPUS) && 'no corpus' }, async (t) => {
  const classes = (file: string) => sshRecords(path.join(CORPUS, file))
    .filter((r) => (r.sshShape as SshShapeRecord).packets[0] >= minPackets)
    .map((r) => {
      const s = r.sshShape as SshShapeRecord;
      checkRecord(t, s);
      return `${s.cipher[0]}/${s.mac[0] || '-'}/${s.keystrokeBytes[0]} ` +
        classifySshShape(cfg, s).cls;
    }).sort();
  t.same(classes('ja4__ssh-r.pcap'), [
    'aes256-ctr/hmac-sha2-256/64 interactive',
    'chacha20-poly1305@openssh.com/-/36 forward-reverse',
  ]);
  t.same(classes('ja4__ssh.pcapng'), ['chacha20-poly1305@openssh.com/-/36 interactive']);
  t.same(classes('ndpi__ssh.pcap').map((c) => c.split(' ')[1]), ['interactive']);
});

t.test('hostile segments never throw and stay bounded', async (t) => {
  const seg = fc.record({
    dir: fc.integer({ min: 0, max: 1 }),
    seq: fc.integer({ min: 0, max: 0xffffffff }),
    flags: fc.integer({ min: 0, max: 0xff }),
    bytes: fc.uint8Array({ maxLength: 1600 }),
    dt: fc.double({ min: 0, max: 5, noNaN: true }),
  });
  const banner = Uint8Array.from(Buffer.from('SSH-2.0-x\r\n\0\0\0\x0c\x0a\x15', 'latin1'));
  fc.assert(fc.property(fc.array(seg, { maxLength: 80 }), fc.boolean(), (segs, start) => {
    const shape = new SshShape(4, 2);
    const p = newDecodedPacket();
    let ts = 1;
    const all = start ? [{ dir: 0, seq: 1, flags: TCP_FLAG.ACK, bytes: banner, dt: 0 },
      { dir: 1, seq: 7, flags: TCP_FLAG.ACK, bytes: banner, dt: 0 }, ...segs] : segs;
    for (const s of all) {
      p.tcpSeq = s.seq;
      p.tcpFlags = s.flags;
      p.payloadOffset = 0;
      p.payloadLength = s.bytes.length;
      ts += s.dt;
      shape.update(0, s.dir, p, s.bytes, ts);
    }
    const r = shape.toRecord(0);
    if (r === undefined) return all.length === 0;
    for (const v of Object.values(r)) {
      if (Array.isArray(v) && v.some((x) => typeof x === 'number' && !Number.isFinite(x))) {
        return false;
      }
    }
    classifySshShape(cfg, r);
    return r.packets[0] + r.packets[1] <= all.length;
  }), { numRuns: 300 });
  t.pass('no throw');
});

t.test('walker: banner, split header, retransmission, gap', async (t) => {
  const w = new HandshakeWalker(1);
  const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
  // Banner in two pieces, then a 12-byte KEXINIT-ish packet split inside its header, then
  // NEWKEYS: the walk must end exactly there.
  w.feed(0, 0, 100, ascii('SSH-2.0-Ope'), 0, 11);
  w.feed(0, 0, 111, ascii('nSSH\r\n\0\0'), 0, 8);
  w.feed(0, 0, 119, ascii('\0\x0c\x04\x14abcdefgh\0\0'), 0, 14);
  t.notOk(w.done(0));
  w.feed(0, 0, 119, ascii('\0\x0c\x04\x14'), 0, 4); // retransmission: ignored
  t.notOk(w.done(0));
  w.feed(0, 0, 133, ascii('\0\0\0\x0c\x0a\x15'), 0, 6);
  // direction 1: a gap in the capture loses the way, then LOST_HANDSHAKE_SEGMENTS later
  // it counts as encrypted all the same.
  w.feed(0, 1, 5, ascii('SSH-2.0-x\r\n'), 0, 11);
  t.notOk(w.done(0));
  for (let i = 0; i < 6; i++) w.feed(0, 1, 1000 + i * 10, ascii('zzzz'), 0, 4);
  t.ok(w.done(0));
  t.equal(w.how(0), 'estimated');
  t.equal(w.lost, 1);
  // A length field beyond any packet is lost too.
  w.reset(0);
  w.feed(0, 0, 1, ascii('SSH-2.0-x\n\xff\xff\xff\xff\x04\x14'), 0, 16);
  t.equal(w.lost, 2);
});

t.test('the pool refuses, counts and recovers', async (t) => {
  const shape = new SshShape(3, 1);
  const p = newDecodedPacket();
  const b = Uint8Array.from(Buffer.from('SSH-2.0-x\r\n', 'latin1'));
  p.payloadLength = b.length;
  shape.update(0, 0, p, b, 1);
  shape.update(1, 0, p, b, 1);
  t.equal(shape.exhausted, 1);
  t.equal(shape.toRecord(1), undefined);
  t.not(shape.toRecord(0), undefined);
  shape.release(0);
  shape.init(1);
  shape.update(1, 0, p, b, 2);
  t.not(shape.toRecord(1), undefined, 'a released entry is handed out again');
});

t.test('config: the shape thresholds are tunable and checked', async (t) => {
  const shape = { minEchoes: 3, minReverseBytes: 1_000_000 };
  const c = configFrom({ rules: { sshSessionShape: shape } });
  t.equal(c.rules.sshSessionShape.minEchoes, 3);
  t.equal(c.rules.sshSessionShape.minReverseBytes, 1_000_000);
  t.equal(c.rules.sshSessionShape.minPackets, DEFAULT_CONFIG.rules.sshSessionShape.minPackets);
  t.throws(() => configFrom({ rules: { sshSessionShape: { minEchoes: 0 } } }),
    /rules\.sshSessionShape\.minEchoes/);
  t.throws(() => configFrom({ rules: { sshSessionShape: { minEcho: 5 } } }), /unknown key/);
  // A bar above its 261 KB of server-started exchanges: the lab -R capture is no longer -R.
  const r = sshRecords(path.join(PCAPS, 'ssh-reverse-443.pcap'))[0];
  t.equal(classifySshShape(c, r.sshShape).cls, 'unknown');
});
