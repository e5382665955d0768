// osquery result logs (osqueryd.results.log, or the same lines from a TLS/Kafka logger):
// differential lines {name, hostIdentifier, unixTime, columns, action: added|removed},
// snapshot lines {..., snapshot: [rows], action: snapshot} and the batch form
// {..., diffResults: {added, removed}}. Query names are the operator's own, so the table is
// told by its columns: socket_events, process_open_sockets, processes / process_events.
// Values are strings unless numerics is true; both are read.

import type { EndpointEvent, EndpointPlatform } from '../event';
import { JsonReader, jsonText } from './json-reader';
import { registerReader } from './reader';
import { isUnspecified, SocketRoleGuesser } from './socket-role';
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

type Op = 'added' | 'removed' | 'snapshot';

/** socket_events.action (Linux audit / macOS OpenBSM): bind is reported as listen. */
const SOCKET_EVENT_ACTIONS = { connect: 'connect', accept: 'accept', bind: 'listen' } as const;
/** IANA protocol numbers in osquery's protocol column. */
const PROTO_TCP = '6';

interface Ctx {
  ts: number;
  host: string | undefined;
  platform: EndpointPlatform;
  line: number;
  roles: SocketRoleGuesser;
}

function pathPlatform(path: string | undefined): EndpointPlatform | undefined {
  if (!path) return undefined;
  if (/^[A-Za-z]:\\/.test(path)) return 'windows';
  if (/^\/(Applications|System|Library)\//.test(path)) return 'macos';
  return undefined;
}

function procOf(r: Record<string, unknown>) {
  const path = str(r.path);
  return {
    pid: int(r.pid),
    executable: path,
    name: str(r.name) ?? basename(path),
    command_line: str(r.cmdline),
    parent: { pid: int(r.parent) },
  };
}

function mapRow(r: Record<string, unknown>, op: Op, c: Ctx): EndpointEvent[] {
  const platform = c.platform !== 'unknown' ? c.platform : pathPlatform(str(r.path)) ?? 'unknown';
  const base = { module: 'osquery', platform, line: c.line, host: { name: c.host } };
  const local = { ip: ip(r.local_address), port: port(r.local_port) || undefined };
  const remote = { ip: ip(r.remote_address), port: port(r.remote_port) || undefined };
  const transport = transportOf(r.protocol);
  const hasSocket = r.local_address !== undefined && r.remote_address !== undefined;

  if (hasSocket && typeof r.action === 'string' && r.time !== undefined) {
    // socket_events: one row per syscall with its own time.
    const action = SOCKET_EVENT_ACTIONS[r.action as keyof typeof SOCKET_EVENT_ACTIONS];
    if (!action || op === 'removed') return [];
    if (action === 'listen') c.roles.noteListen(local.port);
    return [
      makeEvent({
        ...base,
        ts: toSeconds(r.time) ?? c.ts,
        action,
        code: `socket_events/${r.action}`,
        process: procOf(r),
        source: local,
        destination: action === 'listen' ? undefined : remote,
        transport,
      }),
    ];
  }
  if (hasSocket) {
    // process_open_sockets: a table snapshot; removed rows are closed sockets.
    if (op === 'removed') return [];
    const state = String(r.state ?? '').toUpperCase();
    const listening =
      state === 'LISTEN' || (isUnspecified(remote.ip) && !remote.port && state !== 'ESTABLISHED');
    if (listening) c.roles.noteListen(local.port);
    const action = listening ? 'listen' : c.roles.role(local.port, remote.port);
    return [
      makeEvent({
        ...base,
        ts: c.ts,
        action,
        // 'guessed': who opened an established socket is not in the table (socket-role.ts).
        code: listening ? 'process_open_sockets' : 'process_open_sockets/guessed',
        process: procOf(r),
        source: local,
        destination: listening ? undefined : remote,
        transport: transport ?? (String(r.protocol) === PROTO_TCP ? 'tcp' : undefined),
      }),
    ];
  }
  if (r.pid !== undefined && (r.cmdline !== undefined || r.path !== undefined)) {
    // processes (snapshot of running processes) or process_events (exec with its time).
    const action = op === 'removed' ? 'exit' : 'exec';
    const started = toSeconds(r.time) ?? (action === 'exec' ? toSeconds(r.start_time) : undefined);
    return [
      makeEvent({
        ...base,
        ts: started ?? c.ts,
        action,
        code: r.syscall !== undefined ? 'process_events' : 'processes',
        process: procOf(r),
      }),
    ];
  }
  return [];
}

function rowsOf(o: Record<string, unknown>): [Record<string, unknown>, Op][] | null {
  const rows: [Record<string, unknown>, Op][] = [];
  const add = (list: unknown, op: Op) => {
    if (Array.isArray(list)) for (const r of list) if (obj(r)) rows.push([obj(r)!, op]);
  };
  if (obj(o.columns)) {
    const op = o.action === 'removed' ? 'removed' : 'added';
    rows.push([obj(o.columns)!, op]);
  } else if (Array.isArray(o.snapshot)) add(o.snapshot, 'snapshot');
  else if (obj(o.diffResults)) {
    add(obj(o.diffResults)!.added, 'added');
    add(obj(o.diffResults)!.removed, 'removed');
  } else return null;
  return rows;
}

function makeOsqueryReader(): JsonReader {
  const roles = new SocketRoleGuesser();
  return new JsonReader('osquery', (o, line) => {
    const ts = toSeconds(o.unixTime);
    const rows = rowsOf(o);
    if (ts === undefined || rows === null) return null;
    const deco = obj(o.decorations) ?? {};
    const ctx: Ctx = {
      ts,
      host: str(deco.hostname) ?? str(o.hostIdentifier),
      platform:
        platformOf(deco.platform) ?? platformOf(deco.os) ?? platformOf(deco.os_name) ?? 'unknown',
      line,
      roles,
    };
    const out: EndpointEvent[] = [];
    for (const [r, op] of rows) for (const ev of mapRow(r, op, ctx)) out.push(ev);
    return out;
  });
}

registerReader(
  'osquery',
  (lines) => {
    const t = jsonText(lines);
    return t !== null && /"(hostIdentifier|diffResults|calendarTime)"/.test(t) ? 0.95 : 0;
  },
  makeOsqueryReader,
);
