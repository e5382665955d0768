// Folding of repeats: the same detection between the same two hosts within TimeWindow is one
// incident for an analyst (a resolver polled every few seconds over DNSCrypt, a client
// reconnecting its tunnel), so only the first flow of the run of repeats is alerted and the
// rest are counted. Time is packet time, so replay and live fold the same way.

/** Host pairs remembered at most; the oldest are forgotten first beyond this. */
export const MAX_TRACKED_PAIRS = 100_000;

export class RepeatFolder {
  /** key -> packet time of the alert that opened the window. */
  private readonly opened = new Map<string, number>();
  folded = 0;

  constructor(private windowSec: number, private enabled: boolean) {}

  reconfigure(windowSec: number, enabled: boolean): void {
    this.windowSec = windowSec;
    this.enabled = enabled;
  }

  /**
   * Whether an alert for `detection` between hosts a and b at time `ts` is a repeat. A
   * non-repeat opens a new window for the pair.
   */
  isRepeat(detection: string, a: string, b: string, ts: number): boolean {
    if (!this.enabled) return false;
    const key = a < b ? `${detection}|${a}|${b}` : `${detection}|${b}|${a}`;
    const since = this.opened.get(key);
    if (since !== undefined && ts - since >= 0 && ts - since < this.windowSec) {
      this.folded++;
      return true;
    }
    // Re-inserting moves the key to the end, so Map order is oldest-window-first.
    this.opened.delete(key);
    this.opened.set(key, ts);
    if (this.opened.size > MAX_TRACKED_PAIRS) {
      const oldest = this.opened.keys().next().value;
      if (oldest !== undefined) this.opened.delete(oldest);
    }
    return false;
  }
}
