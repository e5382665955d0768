// Every capture of the public corpus replays to exit 0 and writes valid NDJSON, and the
// replay with shard workers agrees with the inline (single-thread) replay.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { ECS_JSON_SCHEMA } from '../src/output/ecs-schema';
import { CORPUS, corpusCaptures, parseNdjson, pool, runCli } from './helpers/cli';

const validate = new Ajv({ allErrors: true, strict: false }).compile(ECS_JSON_SCHEMA);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-corpus-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Capture file -> MANIFEST `tunnel` column ("none" for benign captures). */
function tunnelLabels(): Map<string, string> {
  const rows = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n')
    .map((l) => l.split('\t'));
  const file = rows[0].indexOf('file');
  const tunnel = rows[0].indexOf('tunnel');
  return new Map(rows.slice(1).map((r) => [r[file], r[tunnel]]));
}

/** Cross-flow and ICMP signals that must stay silent on benign traffic. */
const QUIET_ON_BENIGN = new Set(['icmp_tunnel', 'relay', 'volume_outlier']);

t.test('every public capture replays cleanly', async (t) => {
  const files = corpusCaptures();
  const labels = tunnelLabels();
  t.ok(files.length >= 100, `corpus found (${files.length} captures)`);
  const results = await pool(files, 2, async (f) => {
    const flows = path.join(tmp, path.basename(f) + '.flows.ndjson');
    const r = await runCli(['replay', '--workers', '1', '--flows', flows, f]);
    return { f, r, flows };
  });
  let totalFlows = 0;
  for (const { f, r, flows } of results) {
    const name = path.basename(f);
    if (r.code !== 0) {
      t.fail(`${name}: exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`);
      continue;
    }
    const docs = [...parseNdjson(r.stdout), ...parseNdjson(fs.readFileSync(flows, 'utf8'))];
    const bad = docs.filter((d) => !validate(d));
    if (bad.length > 0) t.fail(`${name}: ${bad.length} invalid documents`, { first: bad[0] });
    totalFlows += docs.filter((d) => d.event.kind === 'event').length;
    if (labels.get(name) === 'none') {
      const noisy = docs.filter((d) => d.event.kind === 'alert' &&
        QUIET_ON_BENIGN.has(d.tunnelhound.detection));
      t.same(noisy.map((d) => `${d.tunnelhound.detection} ${d.destination.ip}`), [],
        `${name} (benign): no icmp/relay/outlier alert`);
    }
    t.match(r.stderr, /tunnelhound: \d+ packets, \d+ bytes, \d+ flows, \d+ alerts/, name);
  }
  t.ok(totalFlows > 1000, `flow records written (${totalFlows})`);
});

t.test('shard workers and inline replay give the same flows and alerts', async (t) => {
  const files = corpusCaptures().filter((f) => /ssh|dns|tls/.test(path.basename(f))).slice(0, 12);
  // Final flow records must match exactly; alerts by flow and detection (an alert raised on
  // an interim report carries the counts of that moment, which depend on when it was made).
  // Signals that judge across flows (dns_tunnel merges a client's queries per domain) fire
  // on whichever flow crosses the threshold first, and records from several shards reach
  // the correlator in no fixed order: their alerts are compared by host pair, not by port.
  const crossFlow = (d: Record<string, any>) =>
    d.event.kind === 'alert' && d.tunnelhound.detection === 'dns_tunnel';
  const key = (d: Record<string, any>) => [d.event.kind, d.source.ip,
    crossFlow(d) ? '*' : d.source.port,
    d.destination.ip, d.destination.port, d.network.transport, d.network.protocol,
    ...(d.event.kind === 'alert' ? [d.rule.id, d.tunnelhound.detection]
      : [d.source.packets, d.destination.packets, d.source.bytes, d.destination.bytes,
        d.tunnelhound.flow.end_reason])].join(' ');
  const run = async (workers: string) => {
    const flows = path.join(tmp, `agree-${workers}.ndjson`);
    const r = await runCli(['replay', '--workers', workers, '--flows', flows, ...files]);
    t.equal(r.code, 0, r.stderr);
    return [...parseNdjson(r.stdout), ...parseNdjson(fs.readFileSync(flows, 'utf8'))]
      .filter((d) => d.event.kind === 'alert' || d.tunnelhound.flow.final).map(key)
      .filter((k, i, all) => !k.includes(' * ') || all.indexOf(k) === i).sort();
  };
  const inline = await run('0');
  const sharded = await run('3');
  t.ok(inline.length > 20);
  t.same(sharded, inline);
});
