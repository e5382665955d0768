// Reads a YAML config file (JSON is YAML, so .json files work too), merges it over the
// defaults and validates the result (schema.ts). Every problem is reported, each naming the
// file and line, the dotted key, the value and the rule broken; a bad file is ERR_CONFIG,
// which the CLI turns into exit 2.
//
// yaml and zod (through schema.ts) are loaded on first use: a run without --config does not
// pay their start-up time (zod alone is ~0.1-0.2 s here), which counts on short replays.

import fs from 'node:fs';
import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import { DEFAULT_CONFIG, TunnelhoundConfig } from './defaults';
import { keyPath } from './diff';
import type { Problem } from './schema';

const schema = (): typeof import('./schema') => require('./schema');
const yamlLib = (): typeof import('yaml') => require('yaml');

/** A config is a few KiB; a bigger file is a mistake (a capture passed as --config). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Values are quoted in messages up to this many characters. */
const MAX_VALUE_CHARS = 60;
/** Beyond this edit distance a key is not offered as "did you mean". */
const MAX_SUGGEST_DISTANCE = 2;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
  /** One line per problem (the message joins them). */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

type Obj = Record<string, unknown>;

function isPlainObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The file over the defaults: mappings merge key by key, anything else replaces. */
export function mergeOver(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    // defineProperty: a "__proto__" key from the file stays a key (and fails as unknown).
    Object.defineProperty(out, k, { value: mergeOver(base[k], v), enumerable: true,
      writable: true, configurable: true });
  }
  return out;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1,
        prev[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

type Def = {
  type: string; shape?: Obj; element?: z.ZodType; valueType?: z.ZodType;
  innerType?: z.ZodType; check?: string;
};

function defOf(s: z.ZodType): Def {
  return (s as unknown as { def: Def }).def;
}

/** The schema of the value at a path of the document (optional unwrapped), if any. */
function schemaAt(path: PropertyKey[]): Def | undefined {
  let s: z.ZodType = schema().CONFIG_SCHEMA;
  for (const p of path) {
    const def = defOf(s);
    const inner = def.type === 'object' ? def.shape?.[String(p)] : def.type === 'array'
      ? def.element : def.type === 'record' ? def.valueType : undefined;
    if (inner === undefined) return undefined;
    s = inner as z.ZodType;
    while (defOf(s).type === 'optional') s = defOf(s).innerType!;
  }
  return defOf(s);
}

/** The keys the schema knows at a path of the document (empty for records and lists). */
function knownKeys(path: PropertyKey[]): string[] {
  const def = schemaAt(path);
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/** Shorter keys are not offered by prefix ("a" is the start of too much). */
const MIN_PREFIX_CHARS = 4;

function unknownKeyRule(path: PropertyKey[], key: string): string {
  const known = knownKeys(path);
  const near = known.map((k) => ({ k, d: distance(key, k) })).sort((a, b) => a.d - b.d)[0];
  // A close spelling, or a key cut short ("minSample" for "minSampleBytes").
  const lower = key.toLowerCase();
  const prefixed = lower.length >= MIN_PREFIX_CHARS
    ? known.find((k) => k.toLowerCase().startsWith(lower)) : undefined;
  const guess = near !== undefined && near.d <= MAX_SUGGEST_DISTANCE ? near.k : prefixed;
  if (guess !== undefined) return `unknown key (did you mean ${guess}?)`;
  return `unknown key (known here: ${known.join(', ')})`;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number', int: 'an integer', string: 'a string', boolean: 'true or false',
  array: 'a list', object: 'a mapping (key: value)', record: 'a mapping (key: value)',
};

/** The rule a zod issue states, in the words of the config file. */
function ruleOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      // zod says "number" for a string given where an integer belongs: the schema knows.
      const int = issue.expected === 'number' &&
        schemaAt(issue.path)?.check === 'number_format';
      const type = TYPE_NAMES[int ? 'int' : issue.expected] ?? issue.expected;
      // .inf, .nan and 1e999 are numbers to YAML, not to the schema
      const input = (issue as { input?: unknown }).input;
      if (typeof input === 'number' && !Number.isFinite(input)) {
        return `must be ${int ? 'a finite integer' : 'a finite number'}`;
      }
      return `must be ${type}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? (issue as { minimum: number | bigint }).minimum
        : (issue as { maximum: number | bigint }).maximum;
      const op = issue.inclusive ? (small ? '>=' : '<=') : (small ? '>' : '<');
      const unit = issue.origin === 'string' ? 'character' : issue.origin === 'array'
        ? 'entr' : null;
      if (unit !== null) {
        const plural = unit === 'entr' ? (bound === 1 ? 'y' : 'ies') : (bound === 1 ? '' : 's');
        return `must have ${small ? 'at least' : 'at most'} ${bound} ${unit}${plural}`;
      }
      return `must be ${op} ${bound}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

/** Zod's issues as problems; unknown keys become one problem per key. */
function problemsOf(issues: z.core.$ZodIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: [...path, key], rule: unknownKeyRule(path, key) });
      }
    } else if (issue.input === undefined) {
      out.push({ path, rule: `missing; ${ruleOf(issue)}` });
    } else {
      out.push({ path, value: issue.input, rule: ruleOf(issue) });
    }
  }
  return out;
}

function quote(v: unknown): string {
  let text: string;
  if (v === undefined) text = 'undefined';
  else if (typeof v === 'number' && !Number.isFinite(v)) text = String(v); // .inf, .nan, 1e999
  else {
    try {
      text = JSON.stringify(v, (_k, x: unknown) =>
        typeof x === 'number' && !Number.isFinite(x) ? String(x) : x);
    } catch {
      text = String(v);
    }
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}...` : text;
}

export function problemText(p: Problem): string {
  const head = `config key ${keyPath(p.path)}:`;
  return p.value === undefined ? `${head} ${p.rule}` : `${head} value ${quote(p.value)} ${p.rule}`;
}

/** Every problem of a parsed file (empty = valid) and the merged, checked config. */
export function checkDocument(doc: unknown): { problems: Problem[]; config?: TunnelhoundConfig } {
  if (doc === null || doc === undefined) doc = {}; // an empty file (or only comments)
  if (!isPlainObject(doc)) {
    return { problems: [{ path: [], value: doc, rule: 'must be a mapping of config keys' }] };
  }
  const merged = mergeOver(DEFAULT_CONFIG, doc) as Obj;
  const { CONFIG_SCHEMA, crossProblems } = schema();
  const parsed = CONFIG_SCHEMA.safeParse(merged, { reportInput: true });
  const problems = [...(parsed.success ? [] : problemsOf(parsed.error.issues)),
    ...crossProblems(merged)];
  if (problems.length > 0 || !parsed.success) return { problems };
  return { problems, config: deepFreeze(structuredClone(parsed.data) as TunnelhoundConfig) };
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** Validate an already-parsed config object and merge it over the defaults. */
export function configFrom(doc: unknown): TunnelhoundConfig {
  const r = checkDocument(doc);
  if (r.config === undefined) throw new ConfigError(r.problems.map(problemText));
  return r.config;
}

/** 1-based line of a key path in the YAML source (the key's own line when it has one). */
function lineOf(yaml: Document, lc: LineCounter, path: (string | number)[]): number | null {
  const { isMap, isSeq } = yamlLib();
  for (let n = path.length; n >= 0; n--) {
    const parent = n === 0 ? yaml.contents : yaml.getIn(path.slice(0, n - 1), true);
    let offset: number | undefined;
    if (n === 0) {
      offset = yaml.contents?.range?.[0];
    } else if (isMap(parent)) {
      const pair = parent.items.find((it) => (it.key as { value?: unknown })?.value ===
        path[n - 1]);
      offset = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
    } else if (isSeq(parent)) {
      const item = parent.items[path[n - 1] as number] as { range?: number[] } | undefined;
      offset = item?.range?.[0];
    }
    if (offset !== undefined) return lc.linePos(offset).line;
  }
  return null;
}

/** Most nodes one alias may expand to (yaml's guard against alias bombs). */
const MAX_ALIAS_COUNT = 100;

/** The key path of the first value that contains itself (a YAML alias to an ancestor). */
function cyclePath(v: unknown, onPath: Set<object> = new Set(),
  path: (string | number)[] = []): (string | number)[] | null {
  if (v === null || typeof v !== 'object') return null;
  if (onPath.has(v)) return path;
  onPath.add(v);
  for (const [k, x] of Object.entries(v)) {
    const p = cyclePath(x, onPath, [...path, Array.isArray(v) ? Number(k) : k]);
    if (p !== null) return p;
  }
  onPath.delete(v);
  return null;
}

/** Parse and check config text; `name` is how messages call the file. */
export function parseConfigText(text: string, name: string): TunnelhoundConfig {
  const { LineCounter, parseDocument } = yamlLib();
  const lc = new LineCounter();
  const yaml = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  if (yaml.errors.length > 0) {
    throw new ConfigError(yaml.errors.map((e) => {
      const at = e.linePos?.[0];
      return `${name}${at ? `:${at.line}:${at.col}` : ''}: not valid YAML: ` +
        e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    }));
  }
  let doc: unknown;
  try {
    doc = yaml.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml refuses an alias bomb ("billion laughs") with a ReferenceError
    const why = /alias count/i.test((err as Error).message)
      ? `aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} per alias)`
      : (err as Error).message;
    throw new ConfigError([`${name}: not valid YAML: ${why}`]);
  }
  const loop = cyclePath(doc);
  if (loop !== null) {
    const line = lineOf(yaml, lc, loop);
    throw new ConfigError([`${name}${line === null ? '' : `:${line}`}: config key ` +
      `${keyPath(loop)}: an alias refers to a node that contains it (a cycle)`]);
  }
  const r = checkDocument(doc);
  if (r.config !== undefined) return r.config;
  const placed = r.problems.map((p) => ({ p, line: lineOf(yaml, lc, p.path) }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  throw new ConfigError(placed.map(({ p, line }) =>
    `${name}${line === null ? '' : `:${line}`}: ${problemText(p)}`));
}

/** At most `limit` bytes of a file or fd: /dev/zero or an endless pipe must not hang. */
function readAtMost(file: string | number, limit: number): Buffer {
  const fd = typeof file === 'number' ? file : fs.openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.alloc(64 * 1024);
    while (total < limit) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, limit - total), null);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
    }
    return Buffer.concat(chunks);
  } finally {
    if (typeof file !== 'number') fs.closeSync(fd);
  }
}

/** Read, parse and check a config file ("-" = standard input). */
export function readConfigText(file: string): string {
  let buf: Buffer;
  let size: number | null = null;
  try {
    buf = readAtMost(file === '-' ? 0 : file, MAX_CONFIG_BYTES + 1);
    if (buf.length > MAX_CONFIG_BYTES && file !== '-' && fs.statSync(file).isFile()) {
      size = fs.statSync(file).size;
    }
  } catch (err) {
    throw new ConfigError([`cannot read config ${file}: ${(err as Error).message}`]);
  }
  if (buf.length > MAX_CONFIG_BYTES) {
    throw new ConfigError([size === null
      ? `config ${file} is larger than a config file can be (${MAX_CONFIG_BYTES} bytes)`
      : `config ${file} is ${size} bytes, more than a config file can be (${MAX_CONFIG_BYTES})`]);
  }
  return buf.toString('utf8');
}

export function loadConfig(file: string | undefined): TunnelhoundConfig {
  if (file === undefined) return DEFAULT_CONFIG;
  return parseConfigText(readConfigText(file), file === '-' ? '(stdin)' : file);
}
