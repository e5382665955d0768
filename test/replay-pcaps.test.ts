// Our own captures (pcaps/, made by scripts/make-pcaps.sh with real programs): tunnels raise
// the alerts their JSON label expects, benign traffic raises none, and the flow counters agree
// with what the capture script measured independently.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { ECS_JSON_SCHEMA } from '../src/output/ecs-schema';
import { PCAPS, parseNdjson, runCli } from './helpers/cli';
import { writeLabConfig } from './helpers/lab-config';

const RULE_HINTS: Record<string, string> = {
  'protocol-port-mismatch': 'protocol_port_mismatch',
  'high-entropy-cleartext-port': 'cleartext_port_entropy',
  'ssh-asymmetric-long-lived': 'ssh_asymmetric_long_lived',
};

interface Label {
  name: string;
  file: string;
  tunnel: boolean;
  // Older labels name the rule by a hint; newer ones by analytic and detection.
  expected: {
    alerts: Array<{
      rule_hint?: string; analytic?: string; detection?: string; protocol: string;
      server_port: number;
    }>;
  };
  observed?: { flows: Array<Record<string, any>> };
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(ECS_JSON_SCHEMA);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-pcaps-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
// The captures are replayed with the lab's network context, as an operator would run it.
const labConfig = writeLabConfig(tmp);

const labels: Label[] = fs.readdirSync(PCAPS).filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(PCAPS, f), 'utf8')) as Label)
  .filter((l) => fs.existsSync(path.join(PCAPS, l.file)));

t.ok(labels.some((l) => l.tunnel) && labels.some((l) => !l.tunnel),
  'both tunnel and benign captures present');

for (const label of labels) {
  t.test(label.name, async (t) => {
    const flowsFile = path.join(tmp, `${label.name}.flows`);
    const r = await runCli(['replay', '--config', labConfig, '--flows', flowsFile,
      path.join(PCAPS, label.file)]);
    t.equal(r.code, 0, r.stderr);
    const alerts = parseNdjson(r.stdout);
    const flows = parseNdjson(fs.readFileSync(flowsFile, 'utf8'));
    for (const d of [...alerts, ...flows]) {
      if (!validate(d)) t.fail('schema', { errors: validate.errors, doc: d });
    }
    if (!label.tunnel) {
      t.same(alerts.map((a) => `${a.rule.id} ${a.rule.name}`), [], 'benign: no alerts');
    }
    for (const want of label.expected.alerts) {
      const detection = want.detection ?? RULE_HINTS[want.rule_hint ?? ''];
      t.ok(detection, `known detection ${want.detection ?? want.rule_hint}`);
      const hit = alerts.find((a) => a.tunnelhound.detections.includes(detection) &&
        (want.analytic === undefined || a.rule.id === want.analytic) &&
        a.destination.port === want.server_port &&
        (want.protocol === 'unknown' || a.network.protocol === want.protocol));
      t.ok(hit, `alert ${detection} on port ${want.server_port}`, { alerts });
      if (hit) {
        t.same(hit.threat.technique.id, ['T1572']);
        const ev = hit.tunnelhound.evidence[0];
        t.ok(ev.signal.length > 0 && ev.value !== undefined && ev.detail.length > 0,
          'evidence names the signal and the measured value');
        if (typeof ev.value === 'number' && typeof ev.threshold === 'number') {
          t.ok(ev.value >= ev.threshold, `measured ${ev.value} crosses ${ev.threshold}`);
        }
        for (const e of hit.tunnelhound.evidence) {
          t.ok(typeof e.config_key === 'string' && e.config_key.length > 0 &&
            e.threshold !== undefined, `evidence ${e.signal} names its threshold and key`);
        }
      }
    }
    // Flow counters against what the capture script counted on its own.
    for (const o of label.observed?.flows ?? []) {
      const f = flows.find((d) => d.tunnelhound.flow.final && d.source.ip === o.client &&
        d.destination.ip === o.server && d.destination.port === o.server_port &&
        (o.client_port === undefined || d.source.port === o.client_port));
      t.ok(f, `flow ${o.client}:${o.client_port} -> ${o.server}:${o.server_port}`);
      if (!f) continue;
      if (o.packets_c2s !== undefined) t.equal(f.source.packets, o.packets_c2s, 'c2s packets');
      if (o.packets_s2c !== undefined) t.equal(f.destination.packets, o.packets_s2c, 's2c');
      if (o.payload_bytes_c2s !== undefined) {
        t.equal(f.tunnelhound.flow.payload_bytes.client, o.payload_bytes_c2s, 'c2s payload');
        t.equal(f.tunnelhound.flow.payload_bytes.server, o.payload_bytes_s2c, 's2c payload');
      }
      if (o.protocol && o.protocol !== 'unknown') t.equal(f.network.protocol, o.protocol);
    }
  });
}
