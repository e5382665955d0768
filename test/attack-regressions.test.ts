// Regressions from an attack with bad input: YAML alias bombs and self-referencing aliases in
// a config were internal errors with a stack trace (exit 1), infinite numbers were quoted as
// null; each is now a config problem (exit 2) naming the key.

import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfigText } from '../src/config/load';
import { runCli } from './helpers/cli';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'th-attack-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
for (let i = 1; i < 8; i++) {
  const p = String.fromCharCode(96 + i);
  const q = String.fromCharCode(97 + i);
  laughs.push(`${q}: &${q} [${Array(9).fill(`*${p}`).join(', ')}]`);
}

const BAD: [string, string, RegExp][] = [
  ['alias bomb', laughs.join('\n') + '\n',
    /^bad\.yaml: not valid YAML: aliases expand to too many nodes/],
  ['list that contains itself', 'AllowedTools: &a [*a]\n',
    /^bad\.yaml:1: config key AllowedTools\[0\]: an alias refers to a node that contains it/],
  ['mapping that contains itself', 'ProtocolBaseline: &p { tcp/22: *p }\n',
    /^bad\.yaml:1: config key ProtocolBaseline\.tcp\/22: an alias refers to a node that/],
  ['infinite number', 'rules: {relay: {maxStartGapSec: .inf}}\n',
    /config key rules\.relay\.maxStartGapSec: value Infinity must be a finite number/],
  ['overflowing number', 'flowTable: {closedTimeoutSec: 1e999}\n',
    /config key flowTable\.closedTimeoutSec: value Infinity must be a finite number/],
  ['not a number', 'TimeWindow: .nan\n',
    /config key TimeWindow: value NaN must be a finite number/],
];

t.test('hostile YAML is a config problem, not an internal error', async (t) => {
  for (const [kind, text, re] of BAD) {
    t.throws(() => parseConfigText(text, 'bad.yaml'), { code: 'ERR_CONFIG', message: re }, kind);
  }
});

t.test('alias bomb and alias cycle through the CLI: exit 2, one line, no stack', async (t) => {
  for (const [name, text] of [['bomb.yaml', laughs.join('\n') + '\n'],
    ['cycle.yaml', 'AllowedTools: &a [*a]\n']]) {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    const r = await runCli(['config', 'check', file]);
    t.equal(r.code, 2, `${name}: exit 2`);
    t.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.notMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  }
});
