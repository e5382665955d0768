// DNS tunnels through a DoH resolver (AN1485), told apart from ordinary DoH by timing. A
// tunnel client (dns2tcp, dnstt, iodine behind a DoH proxy) always keeps a query waiting at
// its server so that the server can send data down as soon as it has some: the resolver's
// answer comes seconds after the question, and the client asks again at once. A resolver
// answering a stub or a browser answers in milliseconds (from cache) to a few hundred
// (recursion), and the next question comes when an application needs a name, not the
// instant an answer lands. One such cycle can be a slow upstream; several in a row are the
// long-poll loop.

import { TlsShape } from '../flow/features/tls-shape';

/** TLS 1.3 sends its encrypted handshake as application_data: the first record each way. */
const HANDSHAKE_RECORDS = 1;
/** HTTP/2 control frames (SETTINGS ack, WINDOW_UPDATE, PING) fit in this; see doh.ts. */
const H2_CONTROL_RECORD_BYTES = 44;

export interface LongPollParams {
  /** An answer at least this long after the client's last request waited at the server. */
  minWaitSec: number;
  /** The client's next request within this long after the answer asked again at once. */
  maxFollowSec: number;
}

export interface LongPollResult {
  /** Answers that waited >= minWaitSec and were followed by a request within maxFollowSec. */
  cycles: number;
  /** The shortest such wait, seconds (0 when there is no cycle). */
  minWaitSec: number;
}

/** Message records (not handshake, not h2 control) of one direction, as [time] in order. */
function messageTimes(shape: TlsShape, dir: 0 | 1): number[] {
  const out: number[] = [];
  const sizes = shape.records[dir];
  const times = shape.times[dir];
  for (let i = HANDSHAKE_RECORDS; i < sizes.length; i++) {
    if (sizes[i] > H2_CONTROL_RECORD_BYTES) out.push(times[i]);
  }
  return out;
}

/**
 * Counts long-poll cycles in the kept records: a server message that came >= minWaitSec
 * after the client's latest message before it, followed by a client message within
 * maxFollowSec.
 */
export function longPollCycles(shape: TlsShape, p: LongPollParams): LongPollResult {
  const client = messageTimes(shape, 0);
  const server = messageTimes(shape, 1);
  let cycles = 0;
  let minWait = Infinity;
  let c = 0; // first client message after the current server message
  for (const ts of server) {
    while (c < client.length && client[c] <= ts) c++;
    if (c === 0) continue; // no question before this answer
    const wait = ts - client[c - 1];
    if (wait < p.minWaitSec || c === client.length) continue;
    if (client[c] - ts > p.maxFollowSec) continue;
    cycles++;
    if (wait < minWait) minWait = wait;
  }
  return { cycles, minWaitSec: cycles === 0 ? 0 : minWait };
}
