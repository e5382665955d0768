// The endpoint part of an alert: ECS `process.*`, `host.*`, `user.*` of the process that
// owned the flow's socket, and `tunnelhound.endpoint.*` saying how it was joined and, when a
// loopback leg was linked, which local program used the tunnel. Type and JSON Schema together.

import { EndpointEvent, EndpointMatch } from '../endpoint/event';

export interface EcsProcess {
  pid?: number;
  name?: string;
  executable?: string;
  command_line?: string;
  args?: string[];
  /** Agent's stable id of the process (Sysmon ProcessGuid). */
  entity_id?: string;
  hash?: { sha256?: string };
  parent?: { pid?: number; name?: string; executable?: string; command_line?: string };
}

export interface EcsHost {
  name?: string;
  ip?: string[];
  /** ECS host.os.type: windows, linux, macos (esxi kept as the agent's platform name). */
  os?: { type: string };
}

export interface EcsUser {
  name?: string;
  domain?: string;
}

export interface TunnelhoundEndpoint {
  /** exact: both ends matched; remote_only: the agent reported only the remote end. */
  strength: 'exact' | 'remote_only';
  /** The reader of the owner's event (auditd, sysmon, ...) and what the agent saw. */
  module: string;
  action: string;
  /** When the agent saw the socket (its clock, which may differ from the sensor's). */
  timestamp: string;
  /** 1-based line of the event in the endpoint input, when read from a file. */
  line?: number;
  forwarding_flags?: string[];
  allowed?: { action: 'suppress' | 'lower'; entry: number };
  /** The local program whose loopback connection went into the forwarder's listening port. */
  client?: { process: EcsProcess; host: EcsHost; user?: EcsUser; timestamp: string };
}

function ecsProcess(e: EndpointEvent): EcsProcess {
  const p = e.process;
  const out: EcsProcess = {};
  if (p.pid !== undefined) out.pid = p.pid;
  if (p.name !== undefined) out.name = p.name;
  if (p.executable !== undefined) out.executable = p.executable;
  if (p.command_line !== undefined) out.command_line = p.command_line;
  if (p.args !== undefined) out.args = p.args;
  if (p.entity_id !== undefined) out.entity_id = p.entity_id;
  if (p.hash?.sha256 !== undefined) out.hash = { sha256: p.hash.sha256 };
  const parent = p.parent;
  if (parent !== undefined && Object.values(parent).some((v) => v !== undefined)) {
    out.parent = JSON.parse(JSON.stringify(parent)) as EcsProcess['parent'];
  }
  return out;
}

function ecsHost(e: EndpointEvent): EcsHost {
  const out: EcsHost = {};
  if (e.host.name !== undefined) out.name = e.host.name;
  if (e.host.ip !== undefined && e.host.ip.length > 0) out.ip = e.host.ip;
  if (e.platform !== 'unknown') out.os = { type: e.platform };
  return out;
}

function ecsUser(e: EndpointEvent): EcsUser | undefined {
  if (e.user?.name === undefined) return undefined;
  return e.user.domain === undefined ? { name: e.user.name }
    : { name: e.user.name, domain: e.user.domain };
}

/** The alert fields a match contributes. */
export function ecsEndpointFields(m: EndpointMatch): {
  process: EcsProcess; host: EcsHost; user?: EcsUser; endpoint: TunnelhoundEndpoint;
} {
  const o = m.owner;
  const endpoint: TunnelhoundEndpoint = {
    strength: m.strength, module: o.event.module, action: o.event.action,
    timestamp: o['@timestamp'],
  };
  if (o.event.line !== undefined) endpoint.line = o.event.line;
  if (m.forwardingFlags.length > 0) endpoint.forwarding_flags = m.forwardingFlags;
  if (m.allowed !== undefined) endpoint.allowed = m.allowed;
  if (m.client !== undefined) {
    const c = m.client;
    endpoint.client = { process: ecsProcess(c), host: ecsHost(c), timestamp: c['@timestamp'] };
    const u = ecsUser(c);
    if (u !== undefined) endpoint.client.user = u;
  }
  return { process: ecsProcess(o), host: ecsHost(o), user: ecsUser(o), endpoint };
}

const str = { type: 'string' } as const;
const pid = { type: 'integer', minimum: 0 } as const;

export const ECS_PROCESS_SCHEMA = {
  type: 'object', additionalProperties: false,
  properties: {
    pid, name: str, executable: str, command_line: str, entity_id: str,
    args: { type: 'array', items: str },
    hash: { type: 'object', additionalProperties: false,
      properties: { sha256: { type: 'string', pattern: '^[0-9A-Fa-f]{64}$' } } },
    parent: { type: 'object', additionalProperties: false,
      properties: { pid, name: str, executable: str, command_line: str } },
  },
} as const;

export const ECS_HOST_SCHEMA = {
  type: 'object', additionalProperties: false,
  properties: {
    name: str,
    ip: { type: 'array', items: str, minItems: 1 },
    os: { type: 'object', additionalProperties: false, required: ['type'],
      properties: { type: { enum: ['windows', 'linux', 'macos', 'esxi'] } } },
  },
} as const;

export const ECS_USER_SCHEMA = {
  type: 'object', additionalProperties: false, required: ['name'],
  properties: { name: str, domain: str },
} as const;

const isoTime = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d' };

export const TUNNELHOUND_ENDPOINT_SCHEMA = {
  type: 'object', additionalProperties: false,
  required: ['strength', 'module', 'action', 'timestamp'],
  properties: {
    strength: { enum: ['exact', 'remote_only'] },
    module: { type: 'string', pattern: '^[a-z0-9_-]+$' },
    action: { enum: ['connect', 'accept', 'listen'] },
    timestamp: isoTime,
    line: { type: 'integer', minimum: 1 },
    forwarding_flags: { type: 'array', items: str, minItems: 1 },
    allowed: { type: 'object', additionalProperties: false, required: ['action', 'entry'],
      properties: { action: { enum: ['suppress', 'lower'] }, entry: { type: 'integer',
        minimum: 0 } } },
    client: {
      type: 'object', additionalProperties: false, required: ['process', 'host', 'timestamp'],
      properties: {
        process: ECS_PROCESS_SCHEMA, host: ECS_HOST_SCHEMA, user: ECS_USER_SCHEMA,
        timestamp: isoTime,
      },
    },
  },
} as const;
