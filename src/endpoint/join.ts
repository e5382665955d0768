// The join of endpoint events with flow records (correlator, main thread). An agent reports a
// socket from its own host: source = local side, destination = remote side. A flow is keyed
// by the unordered pair of its ends and its transport, so one index answers for the client
// host's connect and the server host's accept alike.
//
//   exact        both ends with ports (Sysmon 3, osquery, ECS with source.port) agree, and
//                the transport, with the event within TimeWindow (+ clock skew) of the flow
//   remote_only  the agent knew only the remote end (auditd: SOCKADDR of connect / accept has
//                no local port): the flow's server end for a connect, its client end (with
//                the ephemeral port) for an accept
//
// Bounds: socket events are kept while they can still meet a flow's first report (TimeWindow
// + skew + the flow table's active and idle timeouts, measured on the packet clock) and never
// more than MAX_SOCKET_EVENTS; exec events (command lines by pid) and
// pid -> parent links live longer, capped by count. See join-link.ts for the loopback legs.

import { TunnelhoundConfig } from '../config/defaults';
import { FlowRecord } from '../flow/flow-record';
import { transportName } from '../output/ecs';
import { EndpointEvent, EndpointMatch, JoinStrength } from './event';
import { clientLink, isLoopback, LinkIndex } from './join-link';
import { allowedTool, forwardingFlags, programName, sshdSettingFlags } from './policy';

/** Socket events held at once, whatever their age (about 1 KB each). */
export const MAX_SOCKET_EVENTS = 200_000;
/** Exec events (and pids with a known parent) held at once. */
export const MAX_EXEC_PIDS = 100_000;
/** Execs kept per pid: `ip netns exec ... ssh` is two execs of one pid; more is churn. */
const EXECS_PER_PID = 4;
/** Cached matches of live flows (a long tunnel is reported again every active timeout). */
export const MAX_CACHED_MATCHES = 100_000;
/** sshd setting events kept per host. */
const MAX_SETTINGS_PER_HOST = 64;

export interface JoinStats {
  events: number;
  socketEvents: number;
  execEvents: number;
  /** Socket events dropped by age or by the cap before any flow could use them. */
  evicted: number;
  matchedFlows: number;
  matchedExact: number;
  matchedRemoteOnly: number;
  linkedClients: number;
}

interface Candidate {
  e: EndpointEvent;
  strength: JoinStrength;
  /** Which end of the flow the event's host is. */
  side: 'client' | 'server';
  dt: number;
  flags: string[];
}

export function hostKey(e: EndpointEvent): string {
  return (e.host.name ?? '').toLowerCase();
}

export function pidKey(e: EndpointEvent, pid = e.process.pid): string {
  return `${hostKey(e)}|${pid ?? ''}`;
}

/** One normal text per address: lower case, IPv4-mapped IPv6 as IPv4. */
export function normIp(ip: string): string {
  const l = ip.toLowerCase();
  return l.startsWith('::ffff:') && l.includes('.') ? l.slice(7) : l;
}

const endKey = (ip: string, port: number) => `${normIp(ip)}|${port}`;
function pairKey(a: string, ap: number, b: string, bp: number): string {
  const x = endKey(a, ap);
  const y = endKey(b, bp);
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}

function pushTo<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

function removeFrom<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list === undefined) return;
  const i = list.indexOf(v);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) m.delete(k);
}

export class EndpointJoin {
  readonly stats: JoinStats = {
    events: 0, socketEvents: 0, execEvents: 0, evicted: 0, matchedFlows: 0, matchedExact: 0,
    matchedRemoteOnly: 0, linkedClients: 0,
  };
  /** Newest event time seen (seconds), for the feed's lag. */
  newestEventTs = 0;
  private newestTs = 0;
  private readonly byPair = new Map<string, EndpointEvent[]>();
  private readonly byRemote = new Map<string, EndpointEvent[]>();
  /** Socket events in arrival order, for eviction by age; head advances, compacted lazily. */
  private queue: EndpointEvent[] = [];
  private head = 0;
  private readonly execs = new Map<string, EndpointEvent[]>();
  private readonly byEntity = new Map<string, EndpointEvent>();
  private readonly parents = new Map<string, number>();
  private readonly settings = new Map<string, EndpointEvent[]>();
  private readonly cache = new Map<string, EndpointMatch>();
  private readonly links = new LinkIndex();
  private readonly window: number;
  private readonly horizon: number;

  constructor(private readonly cfg: TunnelhoundConfig) {
    this.window = cfg.TimeWindow + cfg.endpoint.clockSkewSec;
    const ft = cfg.flowTable;
    this.horizon = this.window + ft.activeTimeoutSec + ft.idleTimeoutSec;
  }

  add(e: EndpointEvent): void {
    this.stats.events++;
    // Only the packet clock ages events out (advance): an agent with a wrong clock must not
    // be able to flush the index by sending one event from the future.
    if (e.ts > this.newestEventTs) this.newestEventTs = e.ts;
    if (e.process.pid !== undefined && e.process.parent?.pid !== undefined) {
      this.remember(this.parents, pidKey(e), e.process.parent.pid);
    }
    const a = e.event.action;
    if (a === 'exec') return this.addExec(e);
    if (a === 'config') {
      if (e.setting === undefined) return;
      const list = this.settings.get(hostKey(e)) ?? [];
      list.push(e);
      if (list.length > MAX_SETTINGS_PER_HOST) list.shift();
      this.settings.set(hostKey(e), list);
      return;
    }
    if (a !== 'connect' && a !== 'accept' && a !== 'listen') return;
    const src = e.source;
    const dst = e.destination;
    if (a === 'listen') {
      if (src?.port === undefined) return;
    } else if (dst?.ip === undefined || dst.port === undefined || isUnspecified(dst.ip)) {
      return;
    }
    this.stats.socketEvents++;
    this.index(e, true);
    this.queue.push(e);
    while (this.queue.length - this.head > MAX_SOCKET_EVENTS) this.dropHead();
  }

  /** The packet clock: socket events older than the horizon before it can meet no flow. */
  advance(ts: number): void {
    if (ts <= this.newestTs) return;
    this.newestTs = ts;
    const limit = ts - this.horizon;
    while (this.head < this.queue.length && this.queue[this.head].ts < limit) this.dropHead();
  }

  private dropHead(): void {
    const e = this.queue[this.head];
    this.queue[this.head++] = undefined as unknown as EndpointEvent;
    this.index(e, false);
    this.stats.evicted++;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private index(e: EndpointEvent, add: boolean): void {
    const op = add ? pushTo : removeFrom;
    const src = e.source;
    const dst = e.destination;
    if (e.event.action === 'listen') {
      this.links.listener(e, add);
      return;
    }
    if (dst?.ip === undefined || dst.port === undefined) return;
    if (src?.ip !== undefined && src.port !== undefined && src.port !== 0) {
      op(this.byPair, pairKey(src.ip, src.port, dst.ip, dst.port), e);
    } else {
      op(this.byRemote, endKey(dst.ip, dst.port), e);
    }
    if (e.event.action === 'connect' && isLoopback(dst.ip)) this.links.loopConnect(e, add);
  }

  private addExec(e: EndpointEvent): void {
    this.stats.execEvents++;
    const k = pidKey(e);
    const list = this.execs.get(k) ?? [];
    list.push(e);
    if (list.length > EXECS_PER_PID) list.shift();
    this.execs.delete(k); // re-insert: the Map's order is the eviction order (oldest first)
    this.execs.set(k, list);
    if (this.execs.size > MAX_EXEC_PIDS) this.execs.delete(this.execs.keys().next().value!);
    if (e.process.entity_id !== undefined) {
      this.remember(this.byEntity, e.process.entity_id, e);
    }
  }

  private remember<V>(m: Map<string, V>, k: string, v: V): void {
    m.delete(k);
    m.set(k, v);
    if (m.size > MAX_EXEC_PIDS) m.delete(m.keys().next().value!);
  }

  /** The exec that started the process of a socket event (command line, args, hash). */
  execOf(e: EndpointEvent): EndpointEvent | undefined {
    const id = e.process.entity_id;
    if (id !== undefined && this.byEntity.has(id)) return this.byEntity.get(id);
    const list = this.execs.get(pidKey(e));
    if (list === undefined) return undefined;
    const skew = this.cfg.endpoint.clockSkewSec;
    for (let i = list.length - 1; i >= 0; i--) {
      const x = list[i];
      if (x.ts > e.ts + skew) continue;
      // A pid reused by another program is not this process.
      const a = e.process.executable ?? e.process.name;
      if (a !== undefined && programName(x.process) !== programName(e.process)) return undefined;
      return x;
    }
    return undefined;
  }

  /** The event with its process filled from its exec (auditd's proctitle may be stale). */
  enrich(e: EndpointEvent): EndpointEvent {
    const x = this.execOf(e);
    if (x === undefined || x === e) return e;
    const p = e.process;
    const q = x.process;
    return {
      ...e,
      process: {
        ...p,
        command_line: q.command_line ?? p.command_line,
        args: q.args ?? p.args,
        executable: p.executable ?? q.executable,
        hash: p.hash ?? q.hash,
        parent: { ...q.parent, ...p.parent },
      },
      user: e.user ?? x.user,
    };
  }

  parentPid(e: EndpointEvent, pid: number): number | undefined {
    return this.parents.get(pidKey(e, pid));
  }

  /** The process behind a flow, or undefined when no event fits. */
  match(r: FlowRecord): EndpointMatch | undefined {
    this.advance(r.lastTs);
    const cached = this.cache.get(r.flowId);
    if (cached !== undefined) {
      if (r.final) this.cache.delete(r.flowId);
      return cached;
    }
    const m = this.compute(r);
    if (m === undefined) return undefined;
    this.stats.matchedFlows++;
    if (m.strength === 'exact') this.stats.matchedExact++;
    else this.stats.matchedRemoteOnly++;
    if (m.client !== undefined) this.stats.linkedClients++;
    if (!r.final) {
      this.cache.set(r.flowId, m);
      if (this.cache.size > MAX_CACHED_MATCHES) this.cache.delete(this.cache.keys().next().value!);
    }
    return m;
  }

  private compute(r: FlowRecord): EndpointMatch | undefined {
    const transport = transportName(r.ipProto);
    const lo = r.firstTs - this.window;
    const hi = r.lastTs + this.cfg.endpoint.clockSkewSec;
    const cands: Candidate[] = [];
    const consider = (e: EndpointEvent, strength: JoinStrength, side: 'client' | 'server') => {
      if (e.ts < lo || e.ts > hi) return;
      const t = e.network?.transport;
      if (t !== undefined && t !== transport) return;
      const ownIp = side === 'client' ? r.clientIp : r.serverIp;
      if (e.host.ip !== undefined && e.host.ip.length > 0 &&
        !e.host.ip.some((ip) => normIp(ip) === normIp(ownIp))) return;
      const enriched = this.enrich(e);
      cands.push({ e: enriched, strength, side, dt: Math.abs(e.ts - r.firstTs),
        flags: this.flagsOf(enriched) });
    };
    const pk = pairKey(r.clientIp, r.clientPort, r.serverIp, r.serverPort);
    for (const e of this.byPair.get(pk) ?? []) {
      const local = e.source!;
      const isClient = normIp(local.ip!) === normIp(r.clientIp) && local.port === r.clientPort;
      consider(e, 'exact', isClient ? 'client' : 'server');
    }
    // A connect known only by its remote end could be any connection to that server: it
    // must be the one at the flow's first SYN (connect() sends it at once), within the
    // clock skew, not any of the same program's connects in TimeWindow. A flow picked up
    // mid-stream (no SYN seen) has no such instant and keeps the wide window.
    const synSeen = r.history.includes('S');
    const skew = this.cfg.endpoint.clockSkewSec;
    for (const e of this.byRemote.get(endKey(r.serverIp, r.serverPort)) ?? []) {
      if (e.event.action !== 'connect') continue;
      if (synSeen && Math.abs(e.ts - r.firstTs) > skew) continue;
      consider(e, 'remote_only', 'client');
    }
    for (const e of this.byRemote.get(endKey(r.clientIp, r.clientPort)) ?? []) {
      if (e.event.action === 'accept') consider(e, 'remote_only', 'server');
    }
    if (cands.length === 0) return undefined;
    // One process owns each end of the flow: on each side the exact event (its ports prove
    // the socket), else the one nearest the flow's start. Another connect to the same
    // server minutes earlier is another connection; ranking forwarders first across every
    // candidate let such a one (ssh -L) displace the real owner and raise the alert.
    const ends = new Map<'client' | 'server', Candidate>();
    for (const c of cands) {
      const cur = ends.get(c.side);
      if (cur === undefined || ownsEndBetter(c, cur)) ends.set(c.side, c);
    }
    cands.length = 0;
    cands.push(...ends.values());
    // The forwarder is the answer when one end runs it; then the stronger join; then the
    // initiator (whose program chose to open the flow); then the nearest in time.
    cands.sort((a, b) => Number(b.flags.length > 0) - Number(a.flags.length > 0) ||
      Number(b.strength === 'exact') - Number(a.strength === 'exact') ||
      Number(b.side === 'client') - Number(a.side === 'client') || a.dt - b.dt);
    const best = cands[0];
    let owner = best.e;
    if (owner.host.ip === undefined || owner.host.ip.length === 0) {
      // The agent did not say which host it runs on; the flow's end it owns does.
      owner = { ...owner, host: { ...owner.host, ip: [best.side === 'client' ? r.clientIp
        : r.serverIp] } };
    }
    const match: EndpointMatch = { strength: best.strength, owner, forwardingFlags: best.flags };
    const allowed = allowedTool(this.cfg, owner);
    if (allowed !== undefined) match.allowed = allowed;
    const client = clientLink(this, this.links, cands.map((c) => c.e), best.flags, lo, hi);
    if (client !== undefined) match.client = this.enrich(client);
    return match;
  }

  private flagsOf(e: EndpointEvent): string[] {
    const prog = programName(e.process);
    if (prog === 'sshd' || prog.startsWith('sshd-')) {
      return sshdSettingFlags(this.cfg, this.settings.get(hostKey(e)) ?? []);
    }
    return forwardingFlags(this.cfg, e.process);
  }

  /** Seconds between now and the newest event: how far behind the endpoint feed runs. */
  lagSeconds(nowSec = Date.now() / 1000): number {
    return this.newestEventTs === 0 ? 0 : Math.max(0, nowSec - this.newestEventTs);
  }
}

/** Whether a is likelier than b to own their end of the flow: exact first, then nearer. */
function ownsEndBetter(a: Candidate, b: Candidate): boolean {
  if (a.strength !== b.strength) return a.strength === 'exact';
  return a.dt < b.dt;
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}
