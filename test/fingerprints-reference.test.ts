// Our fingerprints against the reference implementations, flow by flow: JA4 against FoxIO's
// snapshots; JA3, JA3S, HASSH and HASSH-server against nDPI and (HASSH) the snapshots.
// Every disagreement is listed with both values; agreement must reach 99 %.

import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CORPUS, parseNdjson, pool, runCli } from './helpers/cli';
import { pairKey, readNdpi, readSnap, RefFlow } from './helpers/references';

const KEYS = ['ja4', 'ja3', 'ja3s', 'hassh', 'hassh_server'] as const;
const REQUIRED_AGREEMENT = 0.99;

interface Source { capture: string; refs: RefFlow[]; origin: 'foxio' | 'ndpi' }

function sources(): Source[] {
  const out: Source[] = [];
  for (const f of fs.readdirSync(CORPUS)) {
    const snap = /^(.*)\.ja4\.rust\.snap$/.exec(f);
    const ndpi = /^(.*)\.ndpi\.out$/.exec(f);
    const capture = snap?.[1] ?? ndpi?.[1];
    if (capture === undefined || !fs.existsSync(path.join(CORPUS, capture))) continue;
    const refs = snap ? readSnap(path.join(CORPUS, f)) : readNdpi(path.join(CORPUS, f));
    if (refs.length > 0) out.push({ capture, refs, origin: snap ? 'foxio' : 'ndpi' });
  }
  return out;
}

t.test('fingerprints agree with FoxIO and nDPI', async (t) => {
  const srcs = sources();
  const captures = [...new Set(srcs.map((s) => s.capture))];
  const ours = new Map<string, Map<string, Record<string, unknown>>>();
  await pool(captures, 2, async (c) => {
    const r = await runCli(['fingerprints', '--workers', '1', path.join(CORPUS, c)]);
    t.equal(r.code, 0, `${c}: ${r.stderr.trim()}`);
    const flows = new Map<string, Record<string, unknown>>();
    for (const l of parseNdjson(r.stdout)) {
      // A long-idle connection can be cut into two flows; the references see one. Each
      // fingerprint comes from whichever of our flows on that pair carried the handshake.
      const k = pairKey(l.transport, l.client_ip, l.client_port, l.server_ip, l.server_port);
      flows.set(k, { ...l, ...flows.get(k) });
    }
    ours.set(c, flows);
  });
  const tally: Record<string, { agree: number; total: number }> = {};
  for (const s of srcs) {
    for (const ref of s.refs) {
      const mine = ours.get(s.capture)?.get(ref.key);
      for (const k of KEYS) {
        const want = ref.values[k];
        // nDPI's JA4 lags the FoxIO reference; the snapshots are the JA4 reference.
        if (want === undefined || (k === 'ja4' && s.origin !== 'foxio')) continue;
        const id = `${k} vs ${s.origin}`;
        tally[id] ??= { agree: 0, total: 0 };
        tally[id].total++;
        const got = mine?.[k];
        if (got === want) tally[id].agree++;
        else t.comment(`DISAGREE ${id} ${s.capture} ${ref.key}: ours ${got ?? '(none)'} ` +
          `reference ${want}`);
      }
    }
  }
  for (const [id, { agree, total }] of Object.entries(tally).sort()) {
    t.comment(`${id}: ${agree}/${total}`);
    t.ok(agree / total >= REQUIRED_AGREEMENT, `${id}: ${agree}/${total} agree`);
  }
  t.ok(tally['ja4 vs foxio']?.total > 50, 'enough JA4 references compared');
  t.ok(tally['ja3 vs ndpi']?.total > 100, 'enough JA3 references compared');
  t.ok(tally['hassh vs ndpi']?.total >= 1 && tally['hassh vs foxio']?.total >= 1,
    'HASSH compared against both references');
});
