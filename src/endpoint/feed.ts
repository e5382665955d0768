// The endpoint feed as the sensor sees it: one join, any number of sources filling it (a
// replay file, a followed log, a TCP listener), and the counts for the run's summary.

import { TunnelhoundConfig } from '../config/defaults';
import { FlowRecord } from '../flow/flow-record';
import { EndpointMatch } from './event';
import { EndpointJoin } from './join';
import { FeedCounts } from './line-feed';

export interface EndpointSource {
  readonly counts: FeedCounts;
  /** Replay only: read events up to this time before a record is judged. */
  advanceTo?(ts: number): void;
  close(): void | Promise<void>;
}

export interface EndpointSummary {
  events: number;
  malformed: number;
  matchedFlows: number;
  exact: number;
  remoteOnly: number;
  linkedClients: number;
  evicted: number;
}

export class EndpointFeed {
  readonly join: EndpointJoin;
  private readonly sources: EndpointSource[] = [];
  private readonly window: number;

  constructor(cfg: TunnelhoundConfig) {
    this.join = new EndpointJoin(cfg);
    this.window = cfg.TimeWindow + cfg.endpoint.clockSkewSec;
  }

  addSource(s: EndpointSource): void {
    this.sources.push(s);
  }

  match(r: FlowRecord): EndpointMatch | undefined {
    for (const s of this.sources) s.advanceTo?.(r.lastTs + this.window);
    return this.join.match(r);
  }

  /** Seconds the newest endpoint event lags behind now (live metrics). */
  lagSeconds(nowSec?: number): number {
    return this.join.lagSeconds(nowSec);
  }

  summary(): EndpointSummary {
    const j = this.join.stats;
    let malformed = 0;
    for (const s of this.sources) malformed += s.counts.malformed;
    return {
      events: j.events, malformed, matchedFlows: j.matchedFlows, exact: j.matchedExact,
      remoteOnly: j.matchedRemoteOnly, linkedClients: j.linkedClients, evicted: j.evicted,
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.sources.map((s) => s.close()));
  }
}

/** The summary line's endpoint part. */
export function endpointSummaryText(s: EndpointSummary): string {
  return `; endpoint: ${s.events} events, ${s.malformed} malformed, ${s.matchedFlows} flows ` +
    `matched (${s.exact} exact, ${s.remoteOnly} remote_only), ${s.linkedClients} local ` +
    'clients linked';
}
