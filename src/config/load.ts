// Reads a JSON config file, validates it against the schema below and merges it over the
// defaults. Errors name the key, the value and the rule, with a stable code.
// gap: the YAML form and `config check` arrive with the analytics issue (#4); JSON keeps
// this issue's dependency set small.

import fs from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { PROTO_NAMES } from '../protocols/identify';
import { DEFAULT_CONFIG, TunnelhoundConfig } from './defaults';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
}

const posInt = { type: 'integer', minimum: 1 } as const;
const posNum = { type: 'number', exclusiveMinimum: 0 } as const;
const enabled = { type: 'boolean' } as const;

/** JSON Schema of a config file: every key optional, unknown keys rejected (typos matter). */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    flowTable: {
      type: 'object', additionalProperties: false,
      properties: {
        capacity: { type: 'integer', minimum: 16, maximum: 50_000_000 },
        idleTimeoutSec: posNum, closedTimeoutSec: posNum, activeTimeoutSec: posNum,
        entropyPool: posInt, inspectorPool: posInt,
      },
    },
    DataAsymmetryThreshold: { type: 'number', minimum: 1 },
    PayloadEntropyThreshold: { type: 'number', exclusiveMinimum: 0, maximum: 8 },
    ProtocolBaseline: {
      type: 'object',
      propertyNames: { pattern: '^(tcp|udp)/[0-9]{1,5}$' },
      additionalProperties: { type: 'array', items: { type: 'string', minLength: 1 } },
    },
    // Interim until the YAML/zod loader lands: the keys the signals already read.
    assets: {
      type: 'object', additionalProperties: false,
      properties: { proxies: { type: 'array', items: { type: 'string' } } },
    },
    rules: {
      type: 'object', additionalProperties: false,
      properties: {
        vpn: {
          type: 'object', additionalProperties: false,
          properties: { enabled, allowedServers: { type: 'array', items: { type: 'string' } } },
        },
        encapsulation: {
          type: 'object', additionalProperties: false,
          properties: { enabled, allowed: { type: 'array', items: { type: 'string' } } },
        },
        protocolPortMismatch: {
          type: 'object', additionalProperties: false,
          properties: { enabled, minSurprise: { enum: [1, 2, 3] }, minCarriedBytes: posInt },
        },
        cleartextEntropy: {
          type: 'object', additionalProperties: false,
          properties: { enabled, minSampleBytes: { type: 'integer', minimum: 64 } },
        },
        sshAsymmetry: {
          type: 'object', additionalProperties: false,
          properties: { enabled, minDurationSec: posNum, minPayloadBytes: posInt },
        },
        sshSessionShape: {
          type: 'object', additionalProperties: false,
          properties: {
            enabled, minPackets: posInt, minEchoes: posInt, minForwardExchanges: posInt,
            minExchangesOverBulk: posInt, minReverseBytes: posInt,
          },
        },
      },
    },
  },
} as const;

let compiled: ValidateFunction | undefined;

/**
 * The schema validator, compiled on first use: loading ajv and compiling the schema cost
 * about 0.13 s of CPU, a fifth of a whole replay of a 300 MB capture, and a run without a
 * config file never needs them (bench/README.md, start-up).
 */
function validate(doc: unknown): boolean {
  if (compiled === undefined) {
    const { default: Ajv } = require('ajv') as typeof import('ajv');
    compiled = new Ajv({ allErrors: true }).compile(CONFIG_SCHEMA);
  }
  return compiled(doc) as boolean;
}

/** JSON Pointer segments, unescaped (RFC 6901: ~1 is '/', ~0 is '~'). */
function pointerParts(pointer: string): string[] {
  return pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describe(e: ErrorObject, doc: unknown): string {
  const parts = pointerParts(e.instancePath);
  const key = parts.join('.') || '(top level)';
  let value: unknown = doc;
  for (const part of parts) value = (value as Record<string, unknown> | undefined)?.[part];
  if (e.propertyName !== undefined) {
    return `config key ${key}.${e.propertyName}: key ${e.message}`;
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return `config key ${key === '(top level)' ? extra : `${key}.${extra}`}: unknown key`;
  }
  return `config key ${key}: value ${JSON.stringify(value)} ${e.message}`;
}

function merge<T>(base: T, over: unknown): T {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    out[k] = k === 'ProtocolBaseline' ? v : merge(out[k], v);
  }
  return out as T;
}

/** Rules JSON Schema cannot say: port range and known protocol names in ProtocolBaseline. */
function checkBaseline(doc: unknown): string[] {
  const baseline = (doc as { ProtocolBaseline?: Record<string, unknown> }).ProtocolBaseline;
  if (baseline === undefined) return [];
  const problems: string[] = [];
  const known = PROTO_NAMES.filter((n) => n !== 'unknown');
  for (const [k, list] of Object.entries(baseline)) {
    const port = Number(k.split('/')[1]);
    if (port > 65535) {
      problems.push(`config key ProtocolBaseline.${k}: port ${port} must be <= 65535`);
    }
    for (const name of list as string[]) {
      if (!known.includes(name)) {
        problems.push(`config key ProtocolBaseline.${k}: value ${JSON.stringify(name)} must ` +
          `be one of the identified protocols (${known.join(', ')})`);
      }
    }
  }
  return problems;
}

/** Validate an already-parsed config object and merge it over the defaults. */
export function configFrom(doc: unknown): TunnelhoundConfig {
  const extra = validate(doc) ? checkBaseline(doc) : [];
  if (extra.length > 0) throw new ConfigError(extra.join('; '));
  if (!validate(doc)) {
    // ajv reports a bad property name twice (the pattern, then "property name must be
    // valid"); the first says it all.
    const lines = (compiled?.errors ?? []).filter((e) => e.keyword !== 'propertyNames')
      .map((e) => describe(e, doc));
    throw new ConfigError(lines.join('; '));
  }
  return merge(DEFAULT_CONFIG, doc);
}

export function loadConfig(file: string | undefined): TunnelhoundConfig {
  if (file === undefined) return DEFAULT_CONFIG;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return configFrom(doc);
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`);
  }
}
