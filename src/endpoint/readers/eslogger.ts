// macOS Endpoint Security events as `eslogger exec fork exit` prints them (JSON per line,
// schema_version 1). event_type 9 is NOTIFY_EXEC, 11 NOTIFY_FORK, 15 NOTIFY_EXIT (the
// es_event_type_t enumeration). Endpoint Security has no socket events: on macOS the
// socket facts come from osquery (see osquery.ts).
//
// audit_token differs by message version: an object {pid, euid, ...} up to version 9, an
// array [auid, euid, egid, ruid, rgid, pid, asid, pidversion] from version 10 on.

import type { EndpointAction, EndpointEvent } from '../event';
import { JsonReader, jsonText, strings } from './json-reader';
import { registerReader } from './reader';
import { basename, int, makeEvent, obj, str, toSeconds } from './util';

const ES_EVENT_TYPES: Record<number, EndpointAction> = { 9: 'exec', 11: 'fork', 15: 'exit' };
/** Index of the pid in the array form of audit_token (message version >= 10). */
const TOKEN_ARRAY_PID = 5;
const TOKEN_ARRAY_LEN = 8;

function tokenPid(t: unknown): number | undefined {
  if (Array.isArray(t)) return t.length === TOKEN_ARRAY_LEN ? int(t[TOKEN_ARRAY_PID]) : undefined;
  return int(obj(t)?.pid);
}

function pathOf(proc: Record<string, unknown> | undefined): string | undefined {
  return str(obj(proc?.executable)?.path);
}

/** Arguments joined for display, quoting those with spaces as a shell would need. */
function commandLine(args: string[]): string | undefined {
  if (!args.length) return undefined;
  return args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

export function mapEslogger(o: Record<string, unknown>, line: number): EndpointEvent[] | null {
  const ts = toSeconds(o.time);
  const proc = obj(o.process);
  const ev = obj(o.event);
  if (ts === undefined || !proc || !ev) return null;
  const typeId = int(o.event_type);
  const action =
    (typeId !== undefined ? ES_EVENT_TYPES[typeId] : undefined) ??
    (ev.exec ? 'exec' : ev.fork ? 'fork' : ev.exit ? 'exit' : undefined);
  if (!action) return [];
  const base = {
    ts,
    action,
    module: 'eslogger',
    platform: 'macos',
    line,
    code: String(typeId),
  } as const;
  const selfPath = pathOf(proc);
  if (action === 'exec') {
    // The target is the image after exec; the same pid, the parent from ppid.
    const exec = obj(ev.exec) ?? {};
    const target = obj(exec.target) ?? proc;
    const path = pathOf(target);
    const args = strings(exec.args);
    return [
      makeEvent({
        ...base,
        process: {
          pid: tokenPid(target.audit_token),
          executable: path,
          name: basename(path),
          command_line: commandLine(args),
          args: args.length ? args : undefined,
          parent: { pid: int(target.ppid) ?? tokenPid(target.parent_audit_token) },
        },
      }),
    ];
  }
  if (action === 'fork') {
    const child = obj(obj(ev.fork)?.child) ?? {};
    const path = pathOf(child);
    return [
      makeEvent({
        ...base,
        process: {
          pid: tokenPid(child.audit_token),
          executable: path,
          name: basename(path),
          parent: {
            pid: tokenPid(proc.audit_token),
            executable: selfPath,
            name: basename(selfPath),
          },
        },
      }),
    ];
  }
  return [
    makeEvent({
      ...base,
      process: {
        pid: tokenPid(proc.audit_token),
        executable: selfPath,
        name: basename(selfPath),
        parent: { pid: int(proc.ppid) },
      },
    }),
  ];
}

registerReader(
  'eslogger',
  (lines) => {
    const t = jsonText(lines);
    if (t === null || !t.includes('"event_type"')) return 0;
    return /"(audit_token|mach_time|schema_version)"/.test(t) ? 0.95 : 0;
  },
  () => new JsonReader('eslogger', mapEslogger),
);
