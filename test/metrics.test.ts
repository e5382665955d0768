// Metrics exposition, the /metrics and /healthz server, capture counter unwrapping and --user
// lookups, each against values that could be wrong.

import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { CaptureTotals } from '../src/capture/capture-totals';
import { resolveCredentials } from '../src/cli/privileges';
import { LiveSnapshot, METRIC_HELP, SensorMetrics } from '../src/output/metrics';
import { parseListenAddress, startMetricsServer } from '../src/output/metrics-server';

function snapshot(over: Partial<LiveSnapshot> = {}): LiveSnapshot {
  return {
    packets: 1234, bytes: 567890, skipped: { non_ip: 7, truncated_ip: 2 }, flowsActive: 42,
    queueDepth: [3, 0], workersDown: [1], workerRestarts: 2, lostPackets: 150, lostFlows: 9,
    flowReports: { idle: 5, closed: 11, evicted: 1, active: 4, flush: 0 },
    alertsByRule: { 'AN1484/protocol_port_mismatch': 3, 'AN1485/doh_unexpected': 1 },
    alertsFolded: 6, alertUpdates: 4,
    delivery: { 'tcp-127.0.0.1-514': { sent: 8, retried: 1, spooled: 2, dropped: 0, queued: 0 } },
    capture: { received: 5000, dropped: 17, ifDropped: 3 }, capturing: true,
    ...over,
  };
}

/** The value of one sample line, by its name with labels as printed. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

t.test('every figure of the snapshot is exposed under its documented name', async (t) => {
  const m = new SensorMetrics(() => snapshot(), false);
  const text = await m.text();
  t.equal(sample(text, 'tunnelhound_capture_running'), 1);
  t.equal(sample(text, 'tunnelhound_capture_received_packets_total'), 5000);
  t.equal(sample(text, 'tunnelhound_capture_kernel_dropped_packets_total'), 17);
  t.equal(sample(text, 'tunnelhound_capture_interface_dropped_packets_total'), 3);
  t.equal(sample(text, 'tunnelhound_packets_total'), 1234);
  t.equal(sample(text, 'tunnelhound_bytes_total'), 567890);
  t.equal(sample(text, 'tunnelhound_malformed_packets_total{kind="non_ip"}'), 7);
  t.equal(sample(text, 'tunnelhound_malformed_packets_total{kind="truncated_ip"}'), 2);
  t.equal(sample(text, 'tunnelhound_flows_active'), 42);
  t.equal(sample(text, 'tunnelhound_flow_reports_total{reason="closed"}'), 11);
  t.equal(sample(text, 'tunnelhound_flow_reports_total{reason="evicted"}'), 1);
  t.equal(sample(text, 'tunnelhound_alerts_total{analytic="AN1484",' +
    'detection="protocol_port_mismatch"}'), 3);
  t.equal(sample(text, 'tunnelhound_alerts_total{analytic="AN1485",' +
    'detection="doh_unexpected"}'), 1);
  t.equal(sample(text, 'tunnelhound_alerts_folded_total'), 6);
  t.equal(sample(text, 'tunnelhound_alert_updates_total'), 4);
  t.equal(sample(text, 'tunnelhound_worker_queue_depth{worker="0"}'), 3);
  t.equal(sample(text, 'tunnelhound_worker_queue_depth{worker="1"}'), 0);
  t.equal(sample(text, 'tunnelhound_worker_up{worker="0"}'), 1);
  t.equal(sample(text, 'tunnelhound_worker_up{worker="1"}'), 0);
  t.equal(sample(text, 'tunnelhound_worker_restarts_total'), 2);
  t.equal(sample(text, 'tunnelhound_worker_lost_packets_total'), 150);
  t.equal(sample(text, 'tunnelhound_worker_lost_flows_total'), 9);
  t.equal(sample(text, 'tunnelhound_sink_documents_total{sink="tcp-127.0.0.1-514",' +
    'outcome="spooled"}'), 2);
  t.notOk(text.includes('tunnelhound_endpoint_feed_lag_seconds'), 'no feed, no lag gauge');
  for (const name of Object.keys(METRIC_HELP)) {
    if (name === 'tunnelhound_endpoint_feed_lag_seconds') continue;
    t.ok(text.includes(`# HELP ${name} `), `${name} is documented in the exposition`);
  }
  t.ok(text.includes('process_resident_memory_bytes'), 'process metrics too');
});

t.test('a scrape reads a fresh snapshot; counters follow it', async (t) => {
  let packets = 10;
  const m = new SensorMetrics(() => snapshot({ packets, capture: null, capturing: false }),
    false);
  t.equal(sample(await m.text(), 'tunnelhound_packets_total'), 10);
  packets = 25;
  const text = await m.text();
  t.equal(sample(text, 'tunnelhound_packets_total'), 25);
  t.equal(sample(text, 'tunnelhound_capture_running'), 0);
  // A counter without labels always has a sample; before any statistics it is 0.
  t.equal(sample(text, 'tunnelhound_capture_received_packets_total'), 0,
    'no capture statistics: 0');
});

t.test('endpoint feed lag: a gauge when a feed runs, NaN while it cannot tell', async (t) => {
  let lag: number | null = 2.5;
  const m = new SensorMetrics(() => snapshot({ endpointLagSeconds: lag }), true);
  t.equal(sample(await m.text(), 'tunnelhound_endpoint_feed_lag_seconds'), 2.5);
  lag = null;
  t.ok(Number.isNaN(sample(await m.text(), 'tunnelhound_endpoint_feed_lag_seconds')));
});

function get(port: number, p: string, method = 'GET'):
  Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, path: p, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, type:
        String(res.headers['content-type']), body }));
    }).on('error', reject).end();
  });
}

t.test('server: /metrics, /healthz 200 then 503 naming the problem, 404, 405', async (t) => {
  let problems: string[] = [];
  const m = new SensorMetrics(() => snapshot(), false);
  const srv = await startMetricsServer({ host: '127.0.0.1', port: 0 }, m, () => problems);
  t.teardown(() => srv.close());
  const port = srv.address.port;
  t.ok(port > 0, 'a real port for port 0');
  const metrics = await get(port, '/metrics');
  t.equal(metrics.status, 200);
  t.match(metrics.type, /^text\/plain; version=0\.0\.4/);
  t.equal(sample(metrics.body, 'tunnelhound_packets_total'), 1234);
  t.same(await get(port, '/healthz'), { status: 200, type: 'text/plain', body: 'ok\n' });
  problems = ['capture stopped (shutting down)', 'shard worker 1 not running'];
  const sick = await get(port, '/healthz?verbose=1');
  t.equal(sick.status, 503);
  t.equal(sick.body, 'capture stopped (shutting down)\nshard worker 1 not running\n');
  t.equal((await get(port, '/')).status, 404);
  t.equal((await get(port, '/metrics', 'POST')).status, 405);
});

t.test('server: a port in use is a clear error', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const m = new SensorMetrics(() => snapshot(), false);
  await t.rejects(startMetricsServer({ host: '127.0.0.1', port }, m, () => []),
    { code: 'ERR_METRICS_LISTEN', message: `--metrics 127.0.0.1:${port}: cannot listen ` +
      '(EADDRINUSE)' });
});

t.test('parseListenAddress', async (t) => {
  t.same(parseListenAddress('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
  t.same(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  t.same(parseListenAddress('localhost:65535'), { host: 'localhost', port: 65535 });
  for (const bad of ['9100', ':9100', '127.0.0.1:', '127.0.0.1:65536', '::1:9100', 'a b:1']) {
    t.throws(() => parseListenAddress(bad), /HOST:PORT/, bad);
  }
});

t.test('capture totals unwrap libpcap\'s u32 counters', async (t) => {
  const c = new CaptureTotals();
  t.equal(c.value(), null, 'nothing before the first sample');
  c.update({ received: 2 ** 32 - 10, dropped: 5, ifDropped: 0 });
  c.update(null);
  c.update({ received: 20, dropped: 5, ifDropped: 1 });
  t.same(c.value(), { received: 2 ** 32 + 20, dropped: 5, ifDropped: 1 },
    'received went past 2^32 and kept counting');
});

t.test('--user lookups', async (t) => {
  t.match(resolveCredentials('root'), { user: 'root', uid: 0, gid: 0, explicitGroup: false });
  t.match(resolveCredentials('nobody:nogroup'),
    { user: 'nobody', uid: 65534, group: 'nogroup', gid: 65534, explicitGroup: true });
  t.match(resolveCredentials('0'), { user: 'root', uid: 0 }, 'numeric ids too');
  t.throws(() => resolveCredentials('th-no-such-user'),
    { code: 'ERR_USAGE', message: '--user th-no-such-user: no such user th-no-such-user' });
  t.throws(() => resolveCredentials('root:th-no-such-group'),
    { message: '--user root:th-no-such-group: no such group th-no-such-group' });
  t.throws(() => resolveCredentials('a:b:c'), /expected NAME or NAME:GROUP/);
  t.throws(() => resolveCredentials(''), /expected NAME or NAME:GROUP/);
});
