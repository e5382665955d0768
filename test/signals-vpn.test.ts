// The vpn signal's SSL VPN DTLS channel, SoftEther NAT-T, WireGuard with reserved bytes set
// and VPN control-API host names: unit cases on head bytes taken from the public corpus
// (each noted), hostile and look-alike heads (QUIC, WebRTC-style DTLS, truncation), config
// validation, then the whole captures. The older VPN openings are in
// signals-proxy-encap.test.ts.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { ConfigError, configFrom } from '../src/config/load';
import { FlowRecord } from '../src/flow/flow-record';
import { PROTO } from '../src/protocols/identify';
import { createVpnSignal } from '../src/signals/vpn';
import { dtlsHandshake, parseDtlsOpening } from '../src/signals/vpn-dtls';
import {
  isSoftEtherNatTReply, isSoftEtherPack, softEtherNatT,
} from '../src/signals/vpn-softether';
import { CORPUS, corpusAlerts } from './helpers/cli';

// ndpi__anyconnect-vpn.pcap, udp 10.0.0.227:54107 -> 8.37.102.91:443: the 64 head bytes of
// the ClientHello and of the HelloVerifyRequest (+ the next ServerHello record's header),
// Cisco's pre-RFC DTLS version 0x0100.
const ANYCONNECT_C = '160100000000000000000000560100004a000000000000004a0100ed89c4699ea1648' +
  '9a68421ebd0951f08172d595bf2c2507bd49467c65ee6238a209bb071c8';
const ANYCONNECT_S = '160100000000000000000000230300001700000000000000170100146291bcf11a76e' +
  'ec56236218cac4cd4c37c12411d16010000000000000000010052020000';
// ndpi__softether.pcap, udp/5004: three "A" keep-alives then a NAT-T register PACK; the
// server's IP=,PORT= replies; a PACK both ways (get_token / isret).
const SE_KEEPALIVE_PACK = '4141410000000c0000000a686f73745f6e616d65000000020000000100000003767' +
  '06e0000000c6d616368696e655f6b65790000000200000001000000284235';
const SE_REPLY = '49503d39302e3138362e3133322e3133332c504f52543d3531333831';
const SE_PACK_C = '00000003000000076f70636f64650000000200000001000000096765745f746f6b656e';
const SE_PACK_S = '00000009000000066973726574000000000000000100000001000000066d795f6970';
// ndpi__cloudflare-warp.pcap, udp/2408: the first 24 head bytes each way.
const WARP_C = 'c10000000090830182436cb06c2855bf3f33c0b207af0feb';
const WARP_S = 'c20278006884ee000190830014575fa55fdd15ec439fd832';

const hex = (h: string) => Buffer.from(h, 'hex');

/** The same heads with the record and hello versions set to a standard DTLS version. */
function standard(h: string, version: string): string {
  const b = hex(h);
  b.write(version, 1, 'hex');
  b.write(version, 25, 'hex'); // the hello body's version
  if (b.length >= 61 && b[48] === 0x16) b.write(version, 49, 'hex'); // the next record
  return b.toString('hex');
}

function rec(over: Partial<FlowRecord>): FlowRecord {
  return {
    flowId: '0.1.1', reportSeq: 0, final: true, reason: 'idle',
    clientIp: '10.77.0.1', clientPort: 54107, serverIp: '198.51.100.7', serverPort: 443,
    ipProto: 17, vlan: -1, firstTs: 1700000000, lastTs: 1700000010,
    packets: [14, 15], bytes: [2322, 3787], payloadBytes: [1734, 3157], history: '',
    protoByDir: [0, 0], identifiedAt: [0, 0], entropy: [7.6, 7.8], entropySample: [64, 64],
    head: [ANYCONNECT_C, ANYCONNECT_S],
    ...over,
  };
}

const signal = createVpnSignal(DEFAULT_CONFIG);
const judge = (over: Partial<FlowRecord>) => signal.judge({ record: rec(over) });

t.test('DTLS openings: the AnyConnect heads and what must not pass', async (t) => {
  t.match(parseDtlsOpening(hex(ANYCONNECT_C)), { family: 'cisco', firstHandshake: 1 });
  t.match(parseDtlsOpening(hex(ANYCONNECT_S)), { family: 'cisco', firstHandshake: 3 });
  t.match(dtlsHandshake(hex(ANYCONNECT_C), hex(ANYCONNECT_S)), { family: 'cisco' });
  t.equal(dtlsHandshake(hex(ANYCONNECT_S), hex(ANYCONNECT_C)), null, 'server opens: no');
  t.equal(dtlsHandshake(hex(ANYCONNECT_C), hex(ANYCONNECT_C)), null, 'hello both ways: no');
  t.equal(dtlsHandshake(hex(ANYCONNECT_C), hex(standard(ANYCONNECT_S, 'fefd'))), null,
    'Cisco client, standard server: the families disagree');
  // Every prefix: a head cut inside the first 25 bytes is no claim, and nothing throws.
  const c = hex(ANYCONNECT_C);
  for (let n = 0; n <= c.length; n++) {
    const o = parseDtlsOpening(c.subarray(0, n));
    if (n < 25) t.equal(o, null, `prefix ${n}`);
  }
  // A record whose successor in the head is not DTLS (a stray 0x16 and noise).
  const s = hex(ANYCONNECT_S);
  s[48] = 0x45;
  t.equal(parseDtlsOpening(s), null, 'later record type 0x45');
  const epoch = hex(ANYCONNECT_C);
  epoch[4] = 1;
  t.equal(parseDtlsOpening(epoch), null, 'a first flight outside epoch 0');
  const frag = hex(ANYCONNECT_C);
  frag.writeUIntBE(0x4b, 22, 3);
  t.equal(parseDtlsOpening(frag), null, 'fragment longer than its message');
  // QUIC Initial (RFC 9000 17.2: form bit set): never a DTLS content type.
  const quic = hex('c300000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b12' +
    '3dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429');
  t.equal(parseDtlsOpening(quic), null, 'QUIC Initial');
});

t.test('the DTLS channel as a VPN: port, packets, version family', async (t) => {
  const d = judge({});
  t.equal(d?.detection, 'vpn_tunnel');
  t.equal(d?.analytic, 'AN1485');
  t.same(d?.evidence.map((e) => [e.signal, e.value, e.threshold, e.config_key]), [
    ['vpn_protocol', 'anyconnect-dtls', 'server not sanctioned', 'rules.vpn.allowedServers'],
    ['dtls_packets', 14, 8, 'rules.vpn.dtlsMinPackets'],
  ]);
  t.ok(judge({ serverPort: 51000 }), 'Cisco pre-RFC DTLS counts on any port');
  t.equal(judge({ packets: [3, 2] }), null, 'a handshake and no data: no');
  t.equal(judge({ protoByDir: [PROTO.QUIC, 0] }), null, 'a flow identified as QUIC: no');
  t.equal(judge({ head: [ANYCONNECT_C.slice(0, 40), ANYCONNECT_S] }), null, 'truncated head');
  t.equal(judge({ head: [ANYCONNECT_C, ''] }), null, 'no reply');
  for (const v of ['feff', 'fefd']) {
    const head: [string, string] = [standard(ANYCONNECT_C, v), standard(ANYCONNECT_S, v)];
    const on443 = judge({ head });
    t.equal(on443?.evidence[0].value, 'ssl-vpn-dtls', `standard DTLS ${v} on udp/443`);
    t.match(on443?.evidence[2], { signal: 'dtls_port', value: 443, threshold: '443',
      config_key: 'rules.vpn.dtlsPorts' });
    // WebRTC-like: standard DTLS between ephemeral ports is media keying, not a VPN.
    t.equal(judge({ head, serverPort: 50123 }), null, `standard DTLS ${v} on a high port`);
  }
  const fortinet = createVpnSignal(configFrom({ rules: { vpn: { dtlsPorts: [10443] } } }));
  const head: [string, string] = [standard(ANYCONNECT_C, 'fefd'), standard(ANYCONNECT_S, 'fefd')];
  t.ok(fortinet.judge({ record: rec({ head, serverPort: 10443 }) }), 'a listed port');
  t.equal(fortinet.judge({ record: rec({ head }) }), null, '443 no longer listed');
  const ours = createVpnSignal(configFrom({ rules: { vpn: {
    allowedServers: ['198.51.100.0/24'] } } }));
  t.equal(ours.judge({ record: rec({}) }), null, 'a sanctioned concentrator');
});

t.test('SoftEther NAT-T: PACK and the address reply', async (t) => {
  t.ok(isSoftEtherPack(hex(SE_KEEPALIVE_PACK), 3));
  t.ok(isSoftEtherPack(hex(SE_PACK_C), 0));
  t.ok(isSoftEtherPack(hex(SE_PACK_S), 0));
  t.ok(isSoftEtherNatTReply(hex(SE_REPLY)));
  t.match(softEtherNatT(hex(SE_KEEPALIVE_PACK), hex(SE_REPLY)), /3 keep-alive.*IP=,PORT=/);
  t.match(softEtherNatT(hex(SE_PACK_C), hex(SE_PACK_S)), /a PACK, .*a PACK$/);
  t.match(softEtherNatT(hex('41'), hex(SE_REPLY)), /1 keep-alive/);
  const d = judge({ serverPort: 5004, head: [SE_PACK_C, SE_PACK_S], packets: [3, 3] });
  t.equal(d?.evidence[0].value, 'softether');
  // Hostile and look-alike input.
  for (const bad of ['IP=256.1.1.1,PORT=5', 'IP=1.2.3,PORT=5', 'IP=1.2.3.4,PORT=0',
    'IP=1.2.3.4,PORT=70000', 'IP=1.2.3.4;PORT=5', 'IP=1.2.3.4,PORT=']) {
    t.notOk(isSoftEtherNatTReply(Buffer.from(bad)), bad);
  }
  t.equal(softEtherNatT(hex('474554202f'), hex(SE_REPLY)), null, 'client not SoftEther');
  t.equal(softEtherNatT(hex('4141'), hex('485454502f312e31')), null, 'server not SoftEther');
  t.equal(softEtherNatT(hex('4141ff00'), hex(SE_REPLY)), null, 'keep-alives then noise');
  t.notOk(isSoftEtherPack(hex('00000000'), 0), 'no elements');
  t.notOk(isSoftEtherPack(hex('0000000100000000'), 0), 'empty name');
  t.notOk(isSoftEtherPack(hex('000000010000000461 2062'.replace(' ', '')), 0), 'cut in name');
  t.notOk(isSoftEtherPack(hex('00000001000000036f700000000900000001'), 0), 'type 9');
  t.notOk(isSoftEtherPack(hex('0000000100000003 6f2d'.replace(' ', '')), 0), 'name "o-"');
  const pack = hex(SE_PACK_C);
  // count 4 + name field 4 + "opcode" 6 + type 4 + value count 4 = 22 bytes.
  for (let n = 0; n <= pack.length; n++) {
    t.equal(isSoftEtherPack(pack.subarray(0, n), 0), n >= 22, `PACK prefix ${n}`);
  }
});

t.test('WireGuard with reserved bytes set; WARP\'s own handshake is a gap', async (t) => {
  const init = hex('01' + 'aabbcc' + '11223344' + '00'.repeat(40));
  const resp = hex('02' + 'aabbcc' + '55667788' + '11223344' + '00'.repeat(40));
  const ok = judge({ serverPort: 51820, head: [init.toString('hex'), resp.toString('hex')],
    packets: [2, 2] });
  t.equal(ok?.evidence[0].value, 'wireguard');
  t.match(ok?.evidence[0].detail, /echoes the initiation's sender index/);
  const other = Buffer.from(resp);
  other.writeUInt32LE(0x01020304, 8);
  t.equal(judge({ serverPort: 51820, head: [init.toString('hex'), other.toString('hex')] }),
    null, 'receiver index not echoed');
  t.equal(judge({ serverPort: 2408, head: [WARP_C, WARP_S] }), null,
    'WARP 0xc1/0xc2 (response bytes 8-11 01908300, initiation 4-7 00908301): not matched');
});

t.test('VPN client control API host names', async (t) => {
  const tls = (sni: string, server: number = PROTO.TLS) => rec({
    ipProto: 6, serverPort: 443, protoByDir: [PROTO.TLS, server], head: ['16030100', '160303'],
    fingerprints: { tls: { sni } } as FlowRecord['fingerprints'],
  });
  const d = signal.judge({ record: tls('API.cloudflareclient.com') });
  t.equal(d?.detection, 'vpn_client_api');
  t.equal(d?.severity, 'low');
  t.match(d?.evidence[0], { value: 'api.cloudflareclient.com',
    config_key: 'rules.vpn.controlHosts' });
  t.equal(signal.judge({ record: tls('www.cloudflareclient.com') }), null, 'not listed');
  t.equal(signal.judge({ record: tls('api.cloudflareclient.com', 0) }), null,
    'no TLS answer from the server');
  const none = createVpnSignal(configFrom({ rules: { vpn: { controlHosts: [] } } }));
  t.equal(none.judge({ record: tls('api.cloudflareclient.com') }), null, 'list emptied');
});

t.test('config: the new rules.vpn keys are checked', async (t) => {
  t.same(DEFAULT_CONFIG.rules.vpn.dtlsPorts, [443]);
  t.equal(DEFAULT_CONFIG.rules.vpn.dtlsMinPackets, 8);
  for (const bad of [{ dtlsPorts: [0] }, { dtlsPorts: [65536] }, { dtlsMinPackets: 0 },
    { dtlsMinPackets: 1.5 }, { controlHosts: ['not a host'] }, { controlHosts: ['-x.com'] }]) {
    t.throws(() => configFrom({ rules: { vpn: bad } }), ConfigError, JSON.stringify(bad));
  }
});

const have = fs.existsSync(path.join(CORPUS, 'ndpi__anyconnect-vpn.pcap'));

const alertsOf = corpusAlerts;

const evidence = (d: Record<string, any>) => d.tunnelhound.evidence
  .map((e: Record<string, any>) => `${e.signal}=${e.value}`).join(' ');

t.test('Cisco AnyConnect: the DTLS data channel on udp/443', { skip: !have }, async (t) => {
  const docs = await alertsOf('ndpi__anyconnect-vpn.pcap');
  t.equal(docs.length, 1, 'one alert: the DTLS flow (the TLS control session is plain TLS)');
  const [d] = docs;
  t.equal(d.rule.id, 'AN1485');
  t.equal(d.tunnelhound.detection, 'vpn_tunnel');
  t.same([d.source.port, d.destination.ip, d.destination.port, d.network.transport],
    [54107, '8.37.102.91', 443, 'udp']);
  t.equal(evidence(d), 'vpn_protocol=anyconnect-dtls dtls_packets=14');
  const strict = await alertsOf('ndpi__anyconnect-vpn.pcap',
    { rules: { vpn: { dtlsMinPackets: 15 } } });
  t.equal(strict.length, 0, '14 datagrams the quieter way: below 15, nothing');
});

t.test('SoftEther NAT-T registration on udp/5004', { skip: !have }, async (t) => {
  const docs = await alertsOf('ndpi__softether.pcap');
  t.equal(docs.length, 12, 'every udp/5004 flow record (the DDNS POST on tcp/80 is HTTP)');
  t.ok(docs.every((d) => d.rule.id === 'AN1485' && d.destination.port === 5004 &&
    d.tunnelhound.evidence[0].value === 'softether'));
});

t.test('Cloudflare WARP: the control API names it; the udp/2408 tunnel is a gap',
  { skip: !have }, async (t) => {
    const docs = await alertsOf('ndpi__cloudflare-warp.pcap');
    t.same(docs.map((d) => [d.tunnelhound.detection, d.destination.port,
      d.tunnelhound.evidence[0].value]), [['vpn_client_api', 443, 'api.cloudflareclient.com']]);
    const sanctioned = await alertsOf('ndpi__cloudflare-warp.pcap',
      { rules: { vpn: { controlHosts: [] } } });
    t.equal(sanctioned.length, 0, 'without the host list nothing fires: udp/2408 is unread');
  });

t.test('WebRTC: STUN then DTLS on high ports is not a VPN', { skip: !have }, async (t) => {
  t.equal((await alertsOf('zeek__tls__webrtc-stun.pcap')).length, 0);
});
