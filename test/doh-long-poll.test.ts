// DoH long-poll cycles (src/signals/doh-long-poll.ts): the timing that tells a DNS tunnel
// behind a DoH resolver from ordinary DoH, on hand-built record shapes. The whole-capture
// checks (ndpi__dns2tcp_tunnel alerts, no benign DoH capture does) are in dns-signals.test.ts.

import t from 'tap';
import { TlsShape } from '../src/flow/features/tls-shape';
import { longPollCycles } from '../src/signals/doh-long-poll';

const PARAMS = { minWaitSec: 1, maxFollowSec: 0.05 };

/** A shape from [size, time] lists; the first record each way stands for the handshake. */
function shape(client: Array<[number, number]>, server: Array<[number, number]>): TlsShape {
  return {
    records: [[300, ...client.map((r) => r[0])], [3000, ...server.map((r) => r[0])]],
    times: [[0, ...client.map((r) => r[1])], [0, ...server.map((r) => r[1])]],
    desync: [false, false],
  };
}

t.test('the long-poll loop: slow answers, each asked again at once', async (t) => {
  // The dns2tcp flow of ndpi__dns2tcp_tunnel.pcap, times relative to its first packet:
  // requests at 0.144, answered 1.58 s later and asked again 0.7 ms after, then 3.09 s
  // waits twice (31-byte WINDOW_UPDATE records between them are h2 control, not counted).
  const lp = longPollCycles(shape(
    [[104, 0.144], [162, 1.7288], [108, 4.8171], [98, 7.9108]],
    [[219, 1.7281], [31, 1.7281], [304, 4.8166], [31, 4.8166], [208, 7.9101]],
  ), PARAMS);
  t.equal(lp.cycles, 3);
  t.ok(Math.abs(lp.minWaitSec - 1.5841) < 1e-6, 'the shortest wait is the first');
});

t.test('ordinary DoH: fast answers, or slow ones followed by nothing soon', async (t) => {
  const fast = shape([[90, 1], [95, 1.01], [88, 5]], [[120, 1.02], [130, 1.03], [110, 5.02]]);
  t.equal(longPollCycles(fast, PARAMS).cycles, 0, 'answers in milliseconds');
  // A recursive lookup that took 1.5 s; the next question came 2 s later (a person browsing).
  const slow = shape([[90, 1], [95, 4.5]], [[120, 2.5]]);
  t.equal(longPollCycles(slow, PARAMS).cycles, 0, 'slow answer, no immediate re-ask');
  // A server PING after idle answered by the client's PING ACK: both are control-sized.
  const ping = shape([[90, 1], [34, 11.001]], [[120, 1.02], [34, 11]]);
  t.equal(longPollCycles(ping, PARAMS).cycles, 0, 'h2 PING/ACK is not a question');
  t.same(longPollCycles(shape([], []), PARAMS), { cycles: 0, minWaitSec: 0 }, 'empty');
  const answerFirst = shape([[90, 3.001]], [[120, 3]]);
  t.equal(longPollCycles(answerFirst, PARAMS).cycles, 0, 'no question before the answer');
  const noNext = shape([[90, 1]], [[120, 3]]);
  t.equal(longPollCycles(noNext, PARAMS).cycles, 0, 'no question after the answer');
});

t.test('the thresholds decide', async (t) => {
  const s = shape([[90, 1], [95, 3.04]], [[120, 3]]);
  t.equal(longPollCycles(s, PARAMS).cycles, 1);
  t.equal(longPollCycles(s, { ...PARAMS, minWaitSec: 2.5 }).cycles, 0, 'wait below minimum');
  t.equal(longPollCycles(s, { ...PARAMS, maxFollowSec: 0.01 }).cycles, 0, 'follow too late');
});
