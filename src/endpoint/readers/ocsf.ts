// OCSF events (schema 1.x): Process Activity (class_uid 1007) and Network Activity (4001).
// OCSF's src_endpoint is the initiator (like ECS source), so an inbound connection's local
// side is dst_endpoint and is swapped into EndpointEvent.source.

import type { EndpointAction, EndpointEvent } from '../event';
import { JsonReader, jsonText } from './json-reader';
import { registerReader } from './reader';
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

const CLASS_PROCESS_ACTIVITY = 1007;
const CLASS_NETWORK_ACTIVITY = 4001;
/** Process Activity activity_id: 1 Launch, 2 Terminate. */
const PROCESS_ACTIVITY: Record<number, EndpointAction> = { 1: 'exec', 2: 'exit' };
/** Network Activity activity_id 7 is Listen; connection_info.direction_id 1 in, 2 out. */
const NET_LISTEN = 7;
const DIRECTION_INBOUND = 1;
const DIRECTION_OUTBOUND = 2;

function processOf(v: unknown) {
  const p = obj(v) ?? {};
  const file = obj(p.file) ?? {};
  const path = str(file.path);
  return {
    pid: int(p.pid),
    executable: path,
    name: str(file.name) ?? basename(path),
    command_line: str(p.cmd_line),
    entity_id: str(p.uid),
  };
}

function endpoint(v: unknown) {
  const e = obj(v);
  return e ? { ip: ip(e.ip), port: port(e.port) || undefined } : undefined;
}

export function mapOcsf(o: Record<string, unknown>, line: number): EndpointEvent[] | null {
  const cls = int(o.class_uid);
  const ts = toSeconds(o.time);
  if (cls === undefined || ts === undefined) return null;
  const device = obj(o.device) ?? {};
  const actor = obj(o.actor) ?? {};
  const actorUser = obj(actor.user) ?? {};
  const os = obj(device.os) ?? {};
  const common = {
    ts,
    module: 'ocsf',
    platform: platformOf(os.name) ?? platformOf(os.type) ?? 'unknown',
    line,
    code: String(int(o.type_uid) ?? cls),
    host: { name: str(device.hostname), ip: str(device.ip) ? [String(device.ip)] : undefined },
    user: { name: str(actorUser.name), domain: str(actorUser.domain) },
  } as const;
  const activity = int(o.activity_id) ?? 0;
  if (cls === CLASS_PROCESS_ACTIVITY) {
    const action = PROCESS_ACTIVITY[activity];
    if (!action) return [];
    const parent = processOf(actor.process);
    return [
      makeEvent({
        ...common,
        action,
        process: {
          ...processOf(o.process),
          parent: { pid: parent.pid, executable: parent.executable, name: parent.name },
        },
      }),
    ];
  }
  if (cls !== CLASS_NETWORK_ACTIVITY) return [];
  const conn = obj(o.connection_info) ?? {};
  const dir = int(conn.direction_id);
  let src = endpoint(o.src_endpoint);
  let dst = endpoint(o.dst_endpoint);
  let action: EndpointAction;
  if (activity === NET_LISTEN) action = 'listen';
  else if (dir === DIRECTION_INBOUND) {
    action = 'accept';
    [src, dst] = [dst, src];
  } else if (dir === DIRECTION_OUTBOUND) action = 'connect';
  else return []; // no direction: which end is local cannot be told
  return [
    makeEvent({
      ...common,
      action,
      process: processOf(actor.process),
      source: src,
      destination: action === 'listen' ? undefined : dst,
      transport: transportOf(conn.protocol_name) ?? transportOf(conn.protocol_num),
      direction: action === 'accept' ? 'ingress' : action === 'connect' ? 'egress' : undefined,
    }),
  ];
}

registerReader(
  'ocsf',
  (lines) => {
    const t = jsonText(lines);
    return t !== null && /"class_uid"\s*:/.test(t) ? 0.95 : 0;
  },
  () => new JsonReader('ocsf', mapOcsf),
);
