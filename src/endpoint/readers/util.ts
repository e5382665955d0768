// Small helpers shared by the endpoint readers: value coercion that never throws (agent
// fields arrive as numbers, decimal strings, hex strings or '-'), time normalisation, and the
// building of one EndpointEvent with only the fields that are known.

import type {
  EndpointAction,
  EndpointEvent,
  EndpointPlatform,
  EndpointProcess,
  EndpointSide,
} from '../event';

/** Largest process id we accept; anything above is a parse error, not a pid. */
const MAX_PID = 0xffffffff;
/** Earliest and latest instants we accept (1990..2100): outside is a wrong-type value. */
const MIN_TS = 631152000;
const MAX_TS = 4102444800;

/** A string field, or undefined for absent, empty or the Windows placeholder '-'. */
export function str(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' || t === '-' ? undefined : v;
}

/** An integer from a number, a decimal string or a 0x hex string (4688 pids are hex). */
export function int(v: unknown, max = MAX_PID): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const t = v.trim();
    if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
    else if (/^\d+$/.test(t)) n = Number(t);
    else return undefined;
  } else return undefined;
  return Number.isInteger(n) && n >= 0 && n <= max ? n : undefined;
}

export function port(v: unknown): number | undefined {
  return int(v, 65535);
}

/** An address as the agent gave it, without an IPv6 zone id (fe80::1%10) or brackets. */
export function ip(v: unknown): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const t = s.trim().replace(/^\[|\]$/g, '');
  const pct = t.indexOf('%');
  return pct > 0 ? t.slice(0, pct) : t;
}

/** Last path element of a Windows or POSIX path. */
export function basename(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return cut >= 0 ? path.slice(cut + 1) || undefined : path;
}

/**
 * Seconds since the epoch from the time forms agents use: ISO 8601 with or without T/Z
 * (evtx_dump.py renders 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC without a zone), epoch seconds
 * or milliseconds as number or string. Undefined when it is not a plausible instant.
 */
export function toSeconds(v: unknown): number | undefined {
  let t: number | undefined;
  if (typeof v === 'number') t = v > MAX_TS * 10 ? v / 1000 : v;
  else if (typeof v === 'string') {
    const s = v.trim();
    if (/^\d+(\.\d+)?$/.test(s)) return toSeconds(Number(s));
    const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(s);
    if (!m) return undefined;
    const ms = Date.parse(`${m[1]}T${m[2]}${m[4] ?? 'Z'}`);
    if (Number.isNaN(ms)) return undefined;
    t = ms / 1000 + (m[3] ? Number(`0${m[3]}`) : 0);
  }
  return t !== undefined && t >= MIN_TS && t <= MAX_TS ? t : undefined;
}

/** ISO 8601 UTC with Z for a seconds value, keeping microseconds when present. */
export function isoOf(ts: number): string {
  const whole = Math.floor(ts);
  const micros = Math.round((ts - whole) * 1e6);
  const base = new Date(whole * 1000).toISOString().slice(0, 19);
  return micros > 0 ? `${base}.${String(micros).padStart(6, '0')}Z` : `${base}Z`;
}

export function transportOf(v: unknown): 'tcp' | 'udp' | undefined {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.toLowerCase() : '';
  if (s === 'tcp' || s === '6') return 'tcp';
  if (s === 'udp' || s === '17') return 'udp';
  return undefined;
}

/** Drops undefined members so that NDJSON output and deep-equal tests see only facts. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) {
    const v = o[k];
    if (v === undefined) delete o[k];
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      compact(v as object);
      if (Object.keys(v as object).length === 0 && k !== 'host' && k !== 'process') delete o[k];
    }
  }
  return o;
}

export interface EventParts {
  ts: number;
  action: EndpointAction;
  module: string;
  platform: EndpointPlatform;
  line: number;
  code?: string;
  host?: { name?: string; ip?: string[] };
  process?: EndpointProcess;
  user?: { name?: string; domain?: string };
  source?: EndpointSide;
  destination?: EndpointSide;
  transport?: 'tcp' | 'udp';
  direction?: 'egress' | 'ingress';
  setting?: { key: string; value: string };
}

/** One normalised event; absent facts are left out rather than set to undefined. */
export function makeEvent(p: EventParts): EndpointEvent {
  const net = { transport: p.transport, direction: p.direction };
  const ev: EndpointEvent = {
    '@timestamp': isoOf(p.ts),
    ts: p.ts,
    host: compact({ ...p.host }),
    process: compact({ ...p.process }),
    user: part(p.user),
    source: part(p.source),
    destination: part(p.destination),
    network: part(net),
    event: compact({ action: p.action, module: p.module, code: p.code, line: p.line }),
    platform: p.platform,
    setting: p.setting,
  };
  return compact(ev);
}

/** An optional block, left out when none of its members is known. */
function part<T extends object>(v: T | undefined): T | undefined {
  if (v === undefined) return undefined;
  const c = compact({ ...v });
  return Object.keys(c).length ? c : undefined;
}

/** Platform from an OS name or family as agents spell it. */
export function platformOf(v: unknown): EndpointPlatform | undefined {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  if (s.includes('windows')) return 'windows';
  if (s.includes('mac') || s === 'darwin') return 'macos';
  if (s.includes('esxi') || s.includes('vmkernel')) return 'esxi';
  if (s.includes('linux') || ['ubuntu', 'debian', 'rhel', 'centos'].includes(s)) return 'linux';
  return undefined;
}

/** Plain object check for values from JSON.parse. */
export function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
