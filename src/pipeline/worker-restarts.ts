// How many shard worker deaths a live sensor absorbs, and the tally of what they cost. A
// worker that dies once (a bug hit by one odd packet) is replaced and the sensor goes on; one
// that dies again and again (it cannot start, or every packet kills it) would only spin, so
// past a budget the run fails and the service manager restarts the whole process.

/** Deaths absorbed within RESTART_WINDOW_MS before the run gives up. */
export const MAX_RESTARTS_IN_WINDOW = 5;
/** The window over which deaths are counted (a restart loop shows within a minute). */
export const RESTART_WINDOW_MS = 60_000;

/** One shard worker that died, and what went with it. */
export interface WorkerLoss {
  shard: number;
  /** The thread's exit code (1 after an uncaught error or terminate()). */
  code: number;
  /** The uncaught error it reported, or one that names the exit code. */
  error: Error;
  /** Packets handed to it and not yet processed. */
  packets: number;
  /** Flows in its table as of its last tick: they end unreported. */
  flows: number;
  /** Restarts of this run so far, this one included. */
  restarts: number;
}

export class RestartBudget {
  count = 0;
  lostPackets = 0;
  lostFlows = 0;
  private readonly recent: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Count one death. Returns null when a restart is allowed (and sets `loss.restarts`), or
   * the error that ends the run when the budget is spent.
   */
  take(loss: WorkerLoss): Error | null {
    const t = this.now();
    while (this.recent.length > 0 && t - this.recent[0] >= RESTART_WINDOW_MS) {
      this.recent.shift();
    }
    this.lostPackets += loss.packets;
    this.lostFlows += loss.flows;
    if (this.recent.length >= MAX_RESTARTS_IN_WINDOW) {
      return new Error(`shard worker ${loss.shard} died ` +
        `(${loss.error.message}) after ${MAX_RESTARTS_IN_WINDOW} restarts within ` +
        `${RESTART_WINDOW_MS / 1000} s; giving up`);
    }
    this.recent.push(t);
    this.count++;
    loss.restarts = this.count;
    return null;
  }
}
