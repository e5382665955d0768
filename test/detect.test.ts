import t from 'tap';
import Ajv from 'ajv';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { configFrom } from '../src/config/load';
import { DetectionEngine } from '../src/detect/engine';
import { buildVerdict, combineScores } from '../src/analytics/verdict';
import { RepeatFolder } from '../src/analytics/suppress';
import {
  carriedBytes, cleartextPortEntropy, protocolPortMismatch, sshAsymmetry,
} from '../src/detect/rules';
import { FlowRecord } from '../src/flow/flow-record';
import { alertDocument, flowDocument } from '../src/output/ecs';
import { ECS_JSON_SCHEMA } from '../src/output/ecs-schema';
import { PROTO } from '../src/protocols/identify';

function rec(over: Partial<FlowRecord>): FlowRecord {
  return {
    flowId: '0.1.1', reportSeq: 0, final: true, reason: 'closed',
    clientIp: '10.77.0.1', clientPort: 40000, serverIp: '10.77.0.2', serverPort: 443,
    ipProto: 6, vlan: -1, firstTs: 1700000000, lastTs: 1700000010,
    packets: [10, 10], bytes: [12000, 23000], payloadBytes: [10000, 20000], history: 'ShADadFf',
    protoByDir: [0, 0], identifiedAt: [1, 1], entropy: [-1, -1], entropySample: [0, 0],
    head: ['', ''],
    ...over,
  };
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(ECS_JSON_SCHEMA);

t.test('protocol on the wrong port, severity by surprise', async (t) => {
  const ssh443 = protocolPortMismatch(DEFAULT_CONFIG,
    rec({ protoByDir: [PROTO.SSH, PROTO.SSH] }));
  t.ok(ssh443);
  t.equal(ssh443!.analytic, 'AN1484');
  t.equal(ssh443!.severity, 'high');
  t.equal(ssh443!.evidence[0].value, 'ssh on tcp/443');
  t.equal(protocolPortMismatch(DEFAULT_CONFIG, rec({ protoByDir: [PROTO.TLS, PROTO.TLS] })),
    null, 'TLS on 443 is expected');
  t.equal(protocolPortMismatch(DEFAULT_CONFIG,
    rec({ serverPort: 22, protoByDir: [PROTO.SSH, PROTO.SSH] })), null, 'SSH on 22');
  t.ok(protocolPortMismatch(DEFAULT_CONFIG,
    rec({ serverPort: 22, protoByDir: [PROTO.TLS, 0] })), 'TLS on 22');
  t.equal(protocolPortMismatch(DEFAULT_CONFIG,
    rec({ protoByDir: [PROTO.SSH, PROTO.TLS] })), null, 'directions disagree: no call');
  t.equal(protocolPortMismatch(DEFAULT_CONFIG, rec({ serverPort: 6667,
    protoByDir: [PROTO.TLS, PROTO.TLS], identifiedAt: [2, 3] })), null,
  'STARTTLS after cleartext on an IRC port');
  t.ok(protocolPortMismatch(DEFAULT_CONFIG, rec({ serverPort: 6667,
    protoByDir: [PROTO.TLS, PROTO.TLS], identifiedAt: [1, 1] })), 'TLS from byte 0 on 6667');
  t.equal(protocolPortMismatch(DEFAULT_CONFIG,
    rec({ serverPort: 41644, protoByDir: [PROTO.SSH, PROTO.SSH] })), null,
  'an sshd moved to an unclaimed port is low surprise: no alert by default');
  const lowCfg = configFrom({ rules: { protocolPortMismatch: { minSurprise: 1 } } });
  const moved = rec({ serverPort: 41644, protoByDir: [PROTO.SSH, PROTO.SSH] });
  t.equal(protocolPortMismatch(lowCfg, moved)?.severity, 'low',
    '... but alerts at low severity when the config asks for it');
  t.equal(protocolPortMismatch(DEFAULT_CONFIG, rec({ protoByDir: [PROTO.SSH, PROTO.SSH],
    payloadBytes: [2405, 2887] })), null, 'an SSH login that carried nothing: no tunnel');
  // A ClientHello of 0x143 bytes (+5 header) then 300 more client bytes: below 512 carried.
  const helloOnly = rec({ serverPort: 80, protoByDir: [PROTO.TLS, PROTO.TLS],
    payloadBytes: [628, 6000], head: ['1603010143010001', ''] });
  t.equal(carriedBytes(helloOnly, PROTO.TLS), 628 - 328 - 128);
  t.equal(protocolPortMismatch(DEFAULT_CONFIG, helloOnly), null, 'TLS that only shook hands');
  const tlsData = protocolPortMismatch(DEFAULT_CONFIG, { ...helloOnly,
    payloadBytes: [1304, 2276] });
  t.equal(tlsData?.evidence[1].signal, 'carried_bytes');
  t.equal(tlsData?.evidence[1].value, 848);
  t.equal(tlsData?.evidence[1].config_key, 'rules.protocolPortMismatch.minCarriedBytes');
  t.equal(carriedBytes(rec({ protoByDir: [PROTO.RDP, PROTO.RDP] }), PROTO.RDP), null,
    'an RDP handshake off its port is itself the finding');
  t.equal(protocolPortMismatch(DEFAULT_CONFIG,
    rec({ serverPort: 22, protoByDir: [PROTO.HTTP, PROTO.HTTP] })), null,
  'readable HTTP on the SSH port hides nothing: low surprise');
  const cfg = configFrom({ ProtocolBaseline: { 'tcp/443': ['tls', 'ssh'] } });
  t.equal(protocolPortMismatch(cfg, rec({ protoByDir: [PROTO.SSH, PROTO.SSH] })), null,
    'the ProtocolBaseline override allows SSH on 443');
});

t.test('entropy on a cleartext port, only with a sample big enough', async (t) => {
  const hot = rec({ serverPort: 80, entropy: [7.95, -1], entropySample: [4096, 0] });
  const d = cleartextPortEntropy(DEFAULT_CONFIG, hot);
  t.ok(d);
  t.equal(d!.evidence[0].signal, 'payload_entropy');
  t.equal(d!.evidence[0].value, 7.95);
  t.equal(d!.evidence[0].threshold, DEFAULT_CONFIG.PayloadEntropyThreshold);
  t.equal(cleartextPortEntropy(DEFAULT_CONFIG,
    rec({ serverPort: 80, entropy: [7.95, -1], entropySample: [100, 0] })), null, 'small');
  t.equal(cleartextPortEntropy(DEFAULT_CONFIG,
    rec({ serverPort: 443, entropy: [7.95, -1], entropySample: [4096, 0] })), null, 'not 80');
  t.equal(cleartextPortEntropy(DEFAULT_CONFIG, rec({ serverPort: 80, entropy: [7.95, 7.9],
    entropySample: [4096, 4096], protoByDir: [PROTO.HTTP, PROTO.HTTP] })), null,
  'identified HTTP is left to the protocol rules');
  t.equal(cleartextPortEntropy(DEFAULT_CONFIG,
    rec({ serverPort: 80, entropy: [5.1, 4.9], entropySample: [4096, 4096] })), null, 'text');
});

t.test('long asymmetric SSH', async (t) => {
  const base = { serverPort: 22, protoByDir: [PROTO.SSH, PROTO.SSH] as [number, number] };
  const long = rec({ ...base, lastTs: 1700000100, payloadBytes: [50_000, 2_000_000] });
  const d = sshAsymmetry(DEFAULT_CONFIG, long);
  t.ok(d);
  t.equal(d!.analytic, 'AN1483');
  t.equal(d!.evidence[0].value, 40);
  t.equal(sshAsymmetry(DEFAULT_CONFIG, rec({ ...base, lastTs: 1700000030,
    payloadBytes: [50_000, 2_000_000] })), null, 'too short');
  t.equal(sshAsymmetry(DEFAULT_CONFIG, rec({ ...base, lastTs: 1700000100,
    payloadBytes: [600_000, 2_000_000] })), null, 'not asymmetric enough');
});

t.test('engine raises once per flow and analytic, then forgets the flow', async (t) => {
  const eng = new DetectionEngine({ ...DEFAULT_CONFIG,
    suppression: { perHostPair: false } });
  const r = rec({ protoByDir: [PROTO.SSH, PROTO.SSH], final: false, reason: 'active' });
  const first = eng.evaluate(r);
  t.equal(first.length, 1);
  t.equal(first[0].update, 0);
  t.equal(first[0].primary.detection, 'protocol_port_mismatch');
  t.equal(eng.evaluate({ ...r, reportSeq: 1 }).length, 0, 'active re-report: no repeat');
  t.equal(eng.evaluate({ ...r, reportSeq: 2, final: true }).length, 0);
  t.equal(eng.evaluate({ ...r, flowId: '0.1.2' }).length, 1, 'a new flow alerts again');
  t.same(eng.alertsByRule, { 'AN1484/protocol_port_mismatch': 2 });
});

t.test('a later report may raise another analytic; the first alert is not repeated',
  async (t) => {
    const eng = new DetectionEngine(DEFAULT_CONFIG);
    // SSH on 443, not yet long or big enough for the asymmetry rule ...
    const r = rec({ protoByDir: [PROTO.SSH, PROTO.SSH], final: false, reason: 'active',
      serverPort: 443, payloadBytes: [10_000, 20_000] });
    const [v0] = eng.evaluate(r);
    t.equal(v0.analytic, 'AN1484');
    // ... then a report where it is: AN1483's rule fires, AN1484's stays quiet.
    const big = { ...r, reportSeq: 1, lastTs: r.firstTs + 600, payloadBytes:
      [50_000, 5_000_000] as [number, number] };
    const later = eng.evaluate(big);
    t.same(later.map((v) => [v.analytic, v.update]), [['AN1483', 0]]);
    t.equal(eng.alertUpdates, 0);
  });

t.test('verdicts combine detections: one alert, combined score, all evidence', async (t) => {
  t.equal(combineScores([60, 60]), 84);
  t.equal(combineScores([100, 10]), 100);
  t.equal(combineScores([]), 0);
  const r = rec({ protoByDir: [PROTO.SSH, PROTO.SSH] });
  const a = protocolPortMismatch(DEFAULT_CONFIG, r)!;
  const b = { ...a, detection: 'other_sign', name: 'Other', score: 95, severity: 'low' as const,
    evidence: [{ signal: 'other', value: 1, threshold: 0, config_key: null, detail: 'x' }] };
  const v = buildVerdict('AN1484', [a, b], 0);
  t.equal(v.primary.detection, 'other_sign', 'the higher score names the alert');
  t.equal(v.severity, 'high', 'a combined score of 85 or more is high');
  const doc = JSON.parse(JSON.stringify(alertDocument(r, v)));
  t.ok(validate(doc), JSON.stringify(validate.errors));
  t.same(doc.tunnelhound.detections, ['other_sign', 'protocol_port_mismatch']);
  t.equal(doc.tunnelhound.evidence.length, 1 + a.evidence.length, 'all evidence, in order');
  t.equal(doc.tunnelhound.evidence[0].signal, 'other');
  t.equal(doc.tunnelhound.score, v.score);
  t.equal(doc.event.action, 'tunnel-detected');
  t.equal(alertDocument(r, { ...v, update: 1 }).event.action, 'tunnel-updated');
  t.equal(alertDocument(r, { ...v, update: 1 }).event.id, doc.event.id, 'same id on update');
});

t.test('repeats between the same two hosts within TimeWindow are folded', async (t) => {
  const eng = new DetectionEngine({ ...DEFAULT_CONFIG, TimeWindow: 60 });
  const r = rec({ protoByDir: [PROTO.SSH, PROTO.SSH] });
  t.equal(eng.evaluate(r).length, 1);
  t.equal(eng.evaluate({ ...r, flowId: 'b', clientPort: 50001, firstTs: r.firstTs + 30 })
    .length, 0, 'same pair 30 s later: folded');
  t.equal(eng.evaluate({ ...r, flowId: 'c', clientIp: r.serverIp, serverIp: r.clientIp,
    firstTs: r.firstTs + 40 }).length, 0, 'the pair is unordered');
  t.equal(eng.evaluate({ ...r, flowId: 'd', clientIp: '10.77.0.9', firstTs: r.firstTs + 40 })
    .length, 1, 'another host pair alerts');
  t.equal(eng.evaluate({ ...r, flowId: 'e', firstTs: r.firstTs + 61 }).length, 1,
    'after TimeWindow the pair alerts again');
  t.equal(eng.folded, 2);
  const folder = new RepeatFolder(60, false);
  t.notOk(folder.isRepeat('x', 'a', 'b', 0));
  t.notOk(folder.isRepeat('x', 'a', 'b', 1), 'off: nothing folds');
});

t.test('alert and flow documents validate against the schema', async (t) => {
  const r = rec({ protoByDir: [PROTO.SSH, PROTO.SSH], vlan: 12 });
  const d = buildVerdict('AN1484', [protocolPortMismatch(DEFAULT_CONFIG, r)!], 0);
  const alert = JSON.parse(JSON.stringify(alertDocument(r, d)));
  t.ok(validate(alert), JSON.stringify(validate.errors));
  t.equal(alert.event.kind, 'alert');
  t.same(alert.threat.technique.id, ['T1572']);
  t.equal(alert.network.protocol, 'ssh');
  t.equal(alert.network.vlan.id, '12');
  t.equal(alert.source.ip, '10.77.0.1');
  t.equal(alert.event.duration, 10e9);
  const again = alertDocument(r, d);
  t.equal(again.event.id, alert.event.id, 'the same alert always gets the same id');
  const flow = JSON.parse(JSON.stringify(flowDocument(r)));
  t.ok(validate(flow), JSON.stringify(validate.errors));
  t.notOk(validate({ ...flow, rule: alert.rule }), 'a flow record may not carry a rule');
  const { rule, ...noRule } = alert;
  t.ok(rule);
  t.notOk(validate(noRule), 'an alert must carry its rule');
});

t.test('config errors name the key, the value and the rule', async (t) => {
  t.throws(() => configFrom({ DataAsymmetryThreshold: 0.5 }),
    /config key DataAsymmetryThreshold: value 0.5 must be > 1/);
  t.throws(() => configFrom({ flowTable: { capacity: 'big' } }),
    /flowTable.capacity: value "big" must be an integer/);
  t.throws(() => configFrom({ rules: { sshAsymetry: {} } }),
    /config key rules.sshAsymetry: unknown key \(did you mean sshAsymmetry\?\)/);
  t.throws(() => configFrom({ ProtocolBaseline: { '443': ['tls'] } }),
    { name: 'ConfigError', code: 'ERR_CONFIG',
      message: /config key ProtocolBaseline.443: key "443" must be tcp\/PORT or udp\/PORT/ });
  t.throws(() => configFrom({ ProtocolBaseline: { 'tcp/8443': 'tls' } }),
    /config key ProtocolBaseline.tcp\/8443: value "tls" must be a list/);
  t.throws(() => configFrom({ ProtocolBaseline: { 'tcp/99999': ['tls'] } }),
    /ProtocolBaseline.tcp\/99999: key "tcp\/99999" must be .* with PORT 1-65535/);
  t.throws(() => configFrom({ ProtocolBaseline: { 'tcp/70': ['gopher'] } }),
    /ProtocolBaseline.tcp\/70\[0\]: value "gopher" must be one of ssh, tls, dns/);
  const cfg = configFrom({ rules: { sshAsymmetry: { minDurationSec: 30 } } });
  t.equal(cfg.rules.sshAsymmetry.minDurationSec, 30);
  t.equal(cfg.rules.sshAsymmetry.minPayloadBytes, 1_000_000, 'unset keys keep defaults');
  t.equal(DEFAULT_CONFIG.rules.sshAsymmetry.minDurationSec, 60, 'defaults untouched');
});
