// Loopback legs: a forwarder listens on a local port (ssh -L 8080:..., sshd for a client's
// -R 13389:..., netsh portproxy, socat TCP-LISTEN) and a local program connects to it (curl,
// mstsc.exe, xfreerdp). That leg never reaches the wire; only the agent sees it. Linking it
// names the program that really uses the tunnel.
//
// The listening process is tied to the carrier flow when it is one of the flow's owners or
// descends from one (sshd accepts the carrier, then a child of it binds the -R port), on the
// same host; the forwarder's own flags also name its listening ports. A connect to one of
// those ports on a loopback address, by a process other than the listener, within the flow's
// time, is the client.

import { EndpointEvent } from './event';
import { forwardedListenPorts } from './policy';

/** Parent links followed from a listener up to a flow's owner (sshd -> session -> child). */
const MAX_ANCESTRY = 4;

export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip.toLowerCase().startsWith('::ffff:127.');
}

const hostOf = (e: EndpointEvent) => (e.host.name ?? '').toLowerCase();

function addTo(m: Map<number, EndpointEvent[]>, k: number, e: EndpointEvent, add: boolean): void {
  const list = m.get(k);
  if (add) {
    if (list === undefined) m.set(k, [e]);
    else list.push(e);
    return;
  }
  if (list === undefined) return;
  const i = list.indexOf(e);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) m.delete(k);
}

/** Listen events and loopback connects by port; entries come and go with the join's queue. */
export class LinkIndex {
  readonly listeners = new Map<number, EndpointEvent[]>();
  readonly loopConnects = new Map<number, EndpointEvent[]>();

  listener(e: EndpointEvent, add: boolean): void {
    addTo(this.listeners, e.source!.port!, e, add);
  }

  loopConnect(e: EndpointEvent, add: boolean): void {
    addTo(this.loopConnects, e.destination!.port!, e, add);
  }
}

interface ParentSource {
  parentPid(e: EndpointEvent, pid: number): number | undefined;
}

/** Whether the listener is one of the owners or a descendant of one, on the same host. */
function tiedTo(tree: ParentSource, l: EndpointEvent, owners: EndpointEvent[]): boolean {
  const mine = owners.filter((o) => hostOf(o) === hostOf(l) && o.process.pid !== undefined);
  if (mine.length === 0) return false;
  const pids = new Set(mine.map((o) => o.process.pid));
  let pid = l.process.pid;
  let parent = l.process.parent?.pid;
  for (let depth = 0; pid !== undefined && depth <= MAX_ANCESTRY; depth++) {
    if (pids.has(pid)) return true;
    pid = parent ?? tree.parentPid(l, pid);
    parent = undefined;
  }
  return false;
}

/** The local client of a forwarder's listening port, or undefined. */
export function clientLink(tree: ParentSource, links: LinkIndex, owners: EndpointEvent[],
  flags: string[], lo: number, hi: number): EndpointEvent | undefined {
  const ports = new Map<number, Set<number>>(); // port -> pids listening on it
  for (const [port, list] of links.listeners) {
    for (const l of list) {
      if (!tiedTo(tree, l, owners)) continue;
      const s = ports.get(port) ?? new Set<number>();
      if (l.process.pid !== undefined) s.add(l.process.pid);
      ports.set(port, s);
    }
  }
  for (const p of forwardedListenPorts(flags)) {
    if (!ports.has(p)) ports.set(p, new Set(links.listeners.get(p)?.map((l) => l.process.pid!)));
  }
  const ownerPids = new Set(owners.map((o) => o.process.pid));
  let best: EndpointEvent | undefined;
  for (const [port, listening] of ports) {
    for (const c of links.loopConnects.get(port) ?? []) {
      if (c.ts < lo || c.ts > hi) continue;
      const pid = c.process.pid;
      if (pid !== undefined && (listening.has(pid) || ownerPids.has(pid))) continue;
      if (best === undefined || c.ts < best.ts) best = c;
    }
  }
  return best;
}
