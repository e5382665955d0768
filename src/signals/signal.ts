// The contract between signals and the analytics. A signal is a small module that looks at
// flow records on the correlator (main thread) and says whether a flow shows its sign of a
// tunnel. Per-packet work happens in the shard workers (src/flow) and reaches a signal only
// as fields of the FlowRecord; what a signal keeps across flows (DNS names per parent domain,
// flows per host for relays) is bounded and evicted by age.

import { TunnelhoundConfig } from '../config/defaults';
import { Detection } from '../detect/detection';
import { EndpointMatch } from '../endpoint/event';
import { FlowRecord } from '../flow/flow-record';

export interface SignalInput {
  record: FlowRecord;
  /** The process behind the flow when the endpoint feed knows it. */
  endpoint?: EndpointMatch;
}

export interface Signal {
  /** Stable snake_case name, also the `detection` of what it returns. */
  readonly name: string;
  /**
   * Sees every record (first report, active reports, final) before any judge() of the same
   * record: the place to update cross-flow state. Must stay O(1) amortised per record.
   */
  observe?(input: SignalInput): void;
  /** A detection for this flow, or null. Called for every record; may fire on a later one. */
  judge(input: SignalInput): Detection | null;
}

/** Each signal module exports one of these; the registry (src/signals/index.ts) lists them. */
export type SignalFactory = (cfg: TunnelhoundConfig) => Signal;
