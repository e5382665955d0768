// Signals that reach `live` while it is still starting. Loading the CLI's modules, reading
// the config and opening the interface take a few hundred milliseconds, and until live.ts
// installs its handlers Node's defaults apply: a SIGHUP then kills the sensor (exit 129, no
// message), which `systemctl reload` right after a start would do. The launcher holds the
// three signals from its first line, which makes libuv catch them from then on. Node runs
// listeners only when the event loop turns: a signal caught during synchronous start-up goes
// to whatever listeners exist then (live's own, if it got that far), and one that came
// while start-up awaited something is recorded here; live.ts takes those once its own
// handlers are in place and acts on them then.

const HELD: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGTERM'];
const arrived = new Set<NodeJS.Signals>();
const hold = (signal: NodeJS.Signals) => { arrived.add(signal); };
let holding = false;

/** Start holding SIGHUP, SIGINT and SIGTERM (the launcher does this for `live` only). */
export function holdSignals(): void {
  if (holding) return;
  holding = true;
  for (const s of HELD) process.on(s, hold);
}

/** Stop holding; returns the signals that arrived meanwhile (none if nothing was held). */
export function releaseSignals(): Set<NodeJS.Signals> {
  const got = new Set(arrived);
  arrived.clear();
  if (holding) for (const s of HELD) process.off(s, hold);
  holding = false;
  return got;
}
