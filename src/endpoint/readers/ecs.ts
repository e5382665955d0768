// ECS JSON as Winlogbeat, Elastic Agent / Elastic Defend and Auditbeat ship it, one object
// per line (pretty-printed documents and arrays from exports are framed too), and the
// go-libaudit coalesced shape Auditbeat's auditd module is built on.
//
// Direction: ECS puts the initiator in source.* and the responder in destination.*, so for
// an inbound (accepted) connection the local side is destination. EndpointEvent wants the
// local side in source, so inbound events are swapped. Winlogbeat's Sysmon module is the
// exception: it copies Sysmon's SourceIp (always the local end) to source.ip as is.

import type { EndpointAction, EndpointEvent, EndpointPlatform } from '../event';
import { JsonReader, jsonText, strings } from './json-reader';
import { registerReader } from './reader';
import { mapWindowsRecord } from './windows-event';
import {
  basename,
  int,
  ip,
  makeEvent,
  obj,
  platformOf,
  port,
  str,
  toSeconds,
  transportOf,
} from './util';

/** event.action values (lower case) by agent: Defend, Auditbeat/go-libaudit, Winlogbeat. */
const ACTIONS: Record<string, EndpointAction> = {
  exec: 'exec',
  executed: 'exec',
  process_started: 'exec',
  'process creation': 'exec',
  start: 'exec',
  fork: 'fork',
  end: 'exit',
  exit: 'exit',
  process_stopped: 'exit',
  'process terminated': 'exit',
  connection_attempted: 'connect',
  'connected-to': 'connect',
  connect: 'connect',
  connection_accepted: 'accept',
  'accepted-connection-from': 'accept',
  accept: 'accept',
  'listen-for-connections': 'listen',
  'bound-socket': 'listen',
  listen: 'listen',
};
const INBOUND = new Set(['ingress', 'inbound', 'incoming']);
const OUTBOUND = new Set(['egress', 'outbound', 'outgoing']);

function lower(v: unknown): string {
  return typeof v === 'string' ? v.toLowerCase() : '';
}

function side(v: unknown): { ip?: string; port?: number } | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const s = { ip: ip(o.ip) ?? ip(o.address), port: port(o.port) || undefined };
  return s.ip !== undefined || s.port !== undefined ? s : undefined;
}

function actionOf(
  o: Record<string, unknown>,
  ev: Record<string, unknown>,
  hasSocket: boolean,
  direction: string,
): EndpointAction | undefined {
  const summary = obj(o.summary) ?? obj(obj(o.auditd)?.summary);
  const named = ACTIONS[lower(ev.action)] ?? ACTIONS[lower(summary?.action)];
  if (named) return named;
  const ecsEvent = obj(obj(o.ecs)?.event);
  const category = [...strings(ev.category), ...strings(ecsEvent?.category)];
  const type = [...strings(ev.type), ...strings(ecsEvent?.type)];
  // A socket with a known direction (Defend disconnect_received, an sshd login with the
  // peer address) still tells which process held which connection.
  if (hasSocket) {
    if (INBOUND.has(direction)) return 'accept';
    if (OUTBOUND.has(direction)) return 'connect';
  }
  // go-libaudit records (record_type set) tag service starts and sudo commands as process
  // starts too; only its named actions (executed) are execs.
  if (category.includes('process') && o.record_type === undefined) {
    if (type.includes('start')) return 'exec';
    if (type.includes('end')) return 'exit';
  }
  return undefined;
}

function platformFor(o: Record<string, unknown>, module: string): EndpointPlatform {
  const os = obj(obj(o.host)?.os);
  for (const v of [os?.type, os?.family, os?.platform, os?.name]) {
    const p = platformOf(v);
    if (p) return p;
  }
  if (o.winlog !== undefined || module === 'sysmon' || module === 'security') return 'windows';
  if (module === 'auditd' || o.auditd !== undefined || o.record_type !== undefined) return 'linux';
  return 'unknown';
}

export function mapEcs(o: Record<string, unknown>, line: number): EndpointEvent[] | null {
  const ts = toSeconds(o['@timestamp']);
  if (ts === undefined) return null;
  const ev = obj(o.event) ?? {};
  const module = lower(ev.module) || lower(ev.provider);
  const network = obj(o.network) ?? {};
  const direction = lower(network.direction);
  let src = side(o.source);
  let dst = side(o.destination);
  const action = actionOf(o, ev, src !== undefined || dst !== undefined, direction);
  if (!action) return fromWinlog(o, ts, line);

  const sysmonShape = module === 'sysmon' || lower(obj(o.winlog)?.channel).includes('sysmon');
  if (!sysmonShape && (action === 'accept' || INBOUND.has(direction))) [src, dst] = [dst, src];
  if (action === 'listen' && !src) [src, dst] = [dst, undefined];
  const isSocket = action === 'connect' || action === 'accept' || action === 'listen';

  const p = obj(o.process) ?? {};
  const parent = obj(p.parent) ?? {};
  const exe = str(p.executable) ?? str(p.exe);
  const args = strings(p.args);
  const parentExe = str(parent.executable);
  const host = obj(o.host) ?? {};
  const user = obj(o.user) ?? {};
  const data = obj(o.data);
  const hash = obj(p.hash);
  return [
    makeEvent({
      ts,
      action,
      module: 'ecs',
      platform: platformFor(o, module),
      line,
      code:
        str(ev.code) ?? str(data?.syscall) ?? str(o.record_type) ?? (str(ev.action) || undefined),
      host: {
        name: str(host.name) ?? str(host.hostname) ?? str(obj(o.winlog)?.computer_name),
        ip: strings(host.ip).length ? strings(host.ip) : undefined,
      },
      process: {
        pid: int(p.pid),
        name: str(p.name) ?? basename(exe),
        executable: exe,
        command_line:
          str(p.command_line) ?? str(p.title) ?? (args.length ? args.join(' ') : undefined),
        args: args.length ? args : undefined,
        entity_id: str(p.entity_id),
        hash: str(hash?.sha256) ? { sha256: String(hash?.sha256) } : undefined,
        parent: {
          pid: int(parent.pid) ?? int(p.ppid),
          name: str(parent.name) ?? basename(parentExe),
          executable: parentExe,
          command_line: str(parent.command_line),
        },
      },
      user: { name: str(user.name), domain: str(user.domain) },
      source: isSocket ? src : undefined,
      destination: isSocket ? dst : undefined,
      transport: transportOf(network.transport),
      direction: INBOUND.has(direction)
        ? 'ingress'
        : OUTBOUND.has(direction)
          ? 'egress'
          : undefined,
    }),
  ];
}

/**
 * Winlogbeat shipped without its ingest pipeline (straight to Logstash or Kafka) leaves the
 * event's fields in winlog.event_data and sets no ECS process or socket fields; such events
 * are mapped like the event XML they came from.
 */
function fromWinlog(o: Record<string, unknown>, ts: number, line: number):
  EndpointEvent[] | null {
  const winlog = obj(o.winlog);
  const eventData = obj(winlog?.event_data);
  const eventId = int(winlog?.event_id ?? obj(o.event)?.code, 0xffff);
  if (!winlog || !eventData || eventId === undefined) return [];
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(eventData)) {
    if (typeof v === 'string' || typeof v === 'number') data[k] = String(v);
  }
  return mapWindowsRecord({
    provider: str(winlog.provider_name) ?? '',
    channel: str(winlog.channel) ?? '',
    eventId,
    time: ts,
    computer: str(winlog.computer_name),
    execPid: int(obj(winlog.process)?.pid),
    data,
    line,
  });
}

registerReader(
  'ecs',
  (lines) => {
    const t = jsonText(lines);
    if (t === null) return 0;
    if (t.includes('"@timestamp"')) return 0.8;
    if (/"(ecs|data_stream|winlog|agent)"\s*:/.test(t)) return 0.7;
    return /"process"\s*:/.test(t) ? 0.5 : 0;
  },
  () => new JsonReader('ecs', mapEcs),
);
