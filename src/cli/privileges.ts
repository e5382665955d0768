// `--user NAME[:GROUP]`: opening a capture needs root (or CAP_NET_RAW); reading from it once
// open does not. The sensor opens the interface, its output files and the metrics port as
// root, then gives up root for good before the first packet is parsed, so a parser bug hit
// by hostile bytes runs as an unprivileged user.
//
// Names are looked up with getent(1) so that users from NSS (LDAP, sssd) resolve exactly as
// they do for login; Node has no getpwnam of its own.

import { execFileSync } from 'node:child_process';
import { UsageError } from './errors';

export interface Credentials {
  user: string;
  uid: number;
  group: string;
  gid: number;
  /** A group was named: supplementary groups are that one only, not the user's. */
  explicitGroup: boolean;
}

/** What getent gives for one name: the fields of its passwd or group line. */
function getent(db: 'passwd' | 'group', key: string): string[] | null {
  try {
    const out = execFileSync('getent', [db, key], { encoding: 'utf8', stdio: 'pipe' });
    const line = out.split('\n')[0];
    return line.length > 0 ? line.split(':') : null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number };
    // Exit 2: no such key. Anything else (getent missing) is reported as it is.
    if (e.status === 2) return null;
    throw new UsageError(`--user: cannot look up ${db} entry ${key} with getent ` +
      `(${e.code ?? e.message})`);
  }
}

/** Resolve `NAME[:GROUP]` (names or numeric ids); a bad spec is a usage error. */
export function resolveCredentials(spec: string): Credentials {
  const m = /^([^:]+)(?::([^:]+))?$/.exec(spec);
  if (m === null) {
    throw new UsageError(`--user ${JSON.stringify(spec)}: expected NAME or NAME:GROUP`);
  }
  const pw = getent('passwd', m[1]);
  if (pw === null) throw new UsageError(`--user ${spec}: no such user ${m[1]}`);
  let group: string;
  let gid: number;
  if (m[2] !== undefined) {
    const gr = getent('group', m[2]);
    if (gr === null) throw new UsageError(`--user ${spec}: no such group ${m[2]}`);
    group = gr[0];
    gid = Number(gr[2]);
  } else {
    gid = Number(pw[3]);
    group = getent('group', pw[3])?.[0] ?? pw[3];
  }
  return { user: pw[0], uid: Number(pw[2]), group, gid, explicitGroup: m[2] !== undefined };
}

/**
 * Become `c` for good: supplementary groups, then group, then user (the other order would
 * leave no right to change groups). Checks afterwards that root cannot be taken back.
 */
export function dropPrivileges(c: Credentials): void {
  // initgroups is in Node on POSIX since 0.9 but missing from @types/node.
  const proc = process as NodeJS.Process & { initgroups?: (user: string, gid: number) => void };
  if (!proc.geteuid || !proc.setuid || !proc.setgid || !proc.setgroups || !proc.initgroups) {
    throw new UsageError('--user: this platform cannot change the process user');
  }
  const euid = proc.geteuid();
  if (euid !== 0) {
    if (euid === c.uid && proc.getegid!() === c.gid) return;
    throw new UsageError(`--user ${c.user}: tunnelhound must start as root to switch user ` +
      `(it runs as uid ${euid})`);
  }
  if (c.explicitGroup) proc.setgroups([c.gid]);
  else proc.initgroups(c.user, c.gid);
  proc.setgid(c.gid);
  proc.setuid(c.uid);
  if (proc.getuid!() !== c.uid || proc.geteuid() !== c.uid || proc.getegid!() !== c.gid) {
    throw new Error(`--user ${c.user}: still uid ${proc.geteuid()} gid ${proc.getegid!()} ` +
      'after the switch');
  }
  if (c.uid !== 0) {
    let regained = false;
    try {
      proc.setuid(0);
      regained = true;
    } catch {
      // refused, as it must be
    }
    if (regained) throw new Error(`--user ${c.user}: root could be taken back; stopping`);
  }
}

/**
 * Run `fn` with the effective user, group and groups of `c`, then take root back: files it
 * creates belong to `c`, and a file `c` could not open fails now rather than at the first
 * reopen after the switch. Not root (nothing to switch, dropPrivileges decides): plain `fn`.
 */
export function asUser<T>(c: Credentials, fn: () => T): T {
  const proc = process as NodeJS.Process & { initgroups?: (user: string, gid: number) => void };
  if (!proc.geteuid || proc.geteuid() !== 0 || !proc.seteuid || !proc.setegid ||
    !proc.getgroups || !proc.setgroups || !proc.initgroups) return fn();
  const groups = proc.getgroups();
  const egid = proc.getegid!();
  // Groups and group first: once the effective user is not root they cannot be changed.
  if (c.explicitGroup) proc.setgroups([c.gid]);
  else proc.initgroups(c.user, c.gid);
  proc.setegid(c.gid);
  proc.seteuid(c.uid);
  try {
    return fn();
  } finally {
    // The saved user id is still root, so this is allowed; the groups need root again.
    proc.seteuid(0);
    proc.setegid(egid);
    proc.setgroups(groups);
  }
}
