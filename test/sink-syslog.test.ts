// Syslog sink: RFC 5424 messages, CEF escaping, URL rules, and delivery to a real rsyslogd
// over UDP, TCP and TLS, parsed back strictly from what rsyslog wrote.

import t, { Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import type { EcsDocument } from '../src/output/ecs-schema';
import { cefExtEscape, cefHeaderEscape, cefLine } from '../src/output/sinks/cef';
import {
  MAX_UDP_MESSAGE, defaultOrigin, docHeader, octetCounted, printableAscii, syslogMessage,
  syslogTimestamp, udpDatagram,
} from '../src/output/sinks/syslog';
import {
  SyslogTransport, createSyslogSink, parseSyslogUrl,
} from '../src/output/sinks/syslog-sink';
import { HAS_GTLS, RSYSLOGD, RsyslogInput, createRsyslog, destroyRsyslog } from './helpers/rsyslog';

const VERSION = '9.8.7';

/** An alert with every character CEF and syslog must take care of in its free text. */
function alertDoc(i: number): EcsDocument {
  return {
    '@timestamp': `2026-03-01T12:00:${String(i % 60).padStart(2, '0')}.123Z`,
    event: {
      kind: 'alert', category: ['network'], type: ['connection'], severity: 73,
      id: (i.toString(16) + 'a'.repeat(32)).slice(0, 32), dataset: 'tunnelhound.alert',
      module: 'tunnelhound', start: '2026-03-01T11:59:00.000Z', end: '2026-03-01T12:00:00.000Z',
      duration: 60e9,
    },
    rule: { id: 'AN1484', name: 'Pipe | and back\\slash', ruleset: 'DET0538',
      description: 'k=v, a\\b, line1\nline2\r, pipe | ok, café' },
    source: { ip: '10.0.0.1', port: 40000 + i, bytes: 100, packets: 2 },
    destination: { ip: '2001:db8::1', port: 443, bytes: 200, packets: 3 },
    network: { transport: 'tcp', iana_number: '6', protocol: 'ssh', bytes: 300, packets: 5 },
    tunnelhound: {
      detection: 'protocol_port_mismatch', severity_label: 'high',
      evidence: [{ signal: 'protocol_port_mismatch', value: 'ssh', threshold: 'tls',
        config_key: 'ProtocolBaseline',
        detail: 'SSH on 443 = odd' }],
      flow: {
        id: 'f' + i, history: 'ShAD', end_reason: 'idle', final: true, report_seq: 0,
        payload_bytes: { client: 1, server: 2 }, protocol_by_direction: { client: 'ssh',
          server: 'ssh' }, entropy: { client: 1, server: 2 },
        entropy_sample_bytes: { client: 1, server: 2 }, head_hex: { client: '', server: '' },
      },
    },
  };
}

// A strict RFC 5424 §6 parser for what we send: SD is NILVALUE or SD-ELEMENTs.
const RFC5424 = new RegExp('^<(\\d{1,3})>1 ' +
  '(-|\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,6})?(?:Z|[+-]\\d\\d:\\d\\d)) ' +
  '([\\x21-\\x7e]{1,255}) ([\\x21-\\x7e]{1,48}) ([\\x21-\\x7e]{1,128}) ([\\x21-\\x7e]{1,32}) ' +
  '(-|(?:\\[[^\\]]*\\])+) ([\\s\\S]*)$');

interface Parsed5424 {
  pri: number; ts: string; host: string; app: string; procId: string; msgId: string;
  sd: string; msg: string;
}

function parse5424(line: string): Parsed5424 | null {
  const m = RFC5424.exec(line);
  if (m === null || Number(m[1]) > 191 || (m[1].length > 1 && m[1][0] === '0')) return null;
  return { pri: Number(m[1]), ts: m[2], host: m[3], app: m[4], procId: m[5], msgId: m[6],
    sd: m[7], msg: m[8] };
}

/** Splits a CEF line into its 7 header fields and the extension map, undoing the escapes. */
function parseCef(line: string): { header: string[]; ext: Record<string, string> } {
  const header: string[] = [];
  let cur = '';
  let i = 0;
  for (; i < line.length && header.length < 7; i++) {
    const c = line[i];
    if (c === '\\') cur += line[++i];
    else if (c === '|') { header.push(cur); cur = ''; } else cur += c;
  }
  const ext: Record<string, string> = {};
  const rest = line.slice(i);
  for (const m of rest.matchAll(/(\w+)=((?:[^\\=]|\\.)*?)(?= \w+=|$)/g)) {
    ext[m[1]] = m[2].replace(/\\(.)/g, (_s, c: string) =>
      (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
  }
  return { header, ext };
}

t.test('RFC 5424 header: PRI, timestamp, fields', async (t) => {
  const origin = { ...defaultOrigin(), hostname: 'h', procId: '42' };
  const alert = docHeader(alertDoc(1));
  t.same(alert, { kind: 'alert', timestamp: '2026-03-01T12:00:01.123Z', severity: 3 });
  t.equal(syslogMessage(origin, alert, 'x'),
    '<131>1 2026-03-01T12:00:01.123Z h tunnelhound 42 alert - x', 'local0.err = 16*8+3');
  t.equal(docHeader({ event: { kind: 'alert', severity: 47 } }).severity, 4, 'medium: warning');
  t.equal(docHeader({ event: { kind: 'alert', severity: 21 } }).severity, 5, 'low: notice');
  t.equal(docHeader({ event: { kind: 'alert' } }).severity, 4, 'no severity: warning');
  const flow = docHeader({ '@timestamp': 'x', event: { kind: 'event' } });
  t.same(flow, { kind: 'flow', timestamp: '-', severity: 6 }, 'flow: info, bad time: NIL');
  t.equal(syslogTimestamp('2026-03-01t12:00:00.123456789+02:00'),
    '2026-03-01T12:00:00.123456+02:00', 'at most 6 fraction digits, upper case');
  t.equal(syslogTimestamp('2026-03-01 12:00:00Z'), '-', 'space separator is not RFC 5424');
  t.equal(printableAscii('a b\u00e9\tc', 255), 'abc', 'printable US-ASCII only');
  t.equal(printableAscii(' ', 255), '-', 'nothing left: NILVALUE');
  t.equal(printableAscii('x'.repeat(300), 255).length, 255);
});

t.test('octet counting and UDP truncation count octets, not characters', async (t) => {
  t.equal(octetCounted('é').toString('utf8'), '2 é', 'RFC 6587 §3.4.1 MSG-LEN in octets');
  const { buf, cut } = udpDatagram('a' + 'é'.repeat(10), 4);
  t.ok(cut);
  t.equal(buf.toString('utf8'), 'aé', 'cut backs up to a character boundary');
  t.equal(udpDatagram('x'.repeat(MAX_UDP_MESSAGE)).cut, false, 'the limit itself fits');
});

t.test('CEF escaping', async (t) => {
  t.equal(cefHeaderEscape('a|b\\c'), 'a\\|b\\\\c', 'header: pipe and backslash');
  t.equal(cefHeaderEscape('a=b\nc'), 'a=b c', 'header: = as is, newline becomes a space');
  t.equal(cefExtEscape('a=b\\c|d'), 'a\\=b\\\\c|d', 'extension: = and \\, pipe as is');
  t.equal(cefExtEscape('1\n2\r3'), '1\\n2\\r3', 'extension: CR and LF written as \\r \\n');
  t.equal(cefExtEscape('\\n'), '\\\\n', 'a literal backslash-n stays two characters');
});

t.test('CEF line: header, mapping, IPv6, round trip', async (t) => {
  const doc = alertDoc(5);
  const line = cefLine(doc, VERSION);
  t.ok(line.startsWith('CEF:0|tunnelhound|tunnelhound|9.8.7|AN1484/protocol_port_mismatch|' +
    'Pipe \\| and back\\\\slash|8|'), line);
  const { header, ext } = parseCef(line);
  t.same(header, ['CEF:0', 'tunnelhound', 'tunnelhound', VERSION,
    'AN1484/protocol_port_mismatch', 'Pipe | and back\\slash', '8']);
  t.same(ext, {
    src: '10.0.0.1', spt: '40005', c6a3: '2001:db8::1', c6a3Label: 'Destination IPv6 Address',
    dpt: '443', proto: 'tcp', app: 'ssh', rt: String(Date.parse(doc['@timestamp'])),
    externalId: doc.event.id, cs1Label: 'evidence',
    cs1: 'protocol_port_mismatch=ssh (threshold tls): SSH on 443 = odd',
    msg: doc.rule!.description,
  });
  const flow: EcsDocument = { ...doc, event: { ...doc.event, kind: 'event' } };
  delete flow.event.severity;
  t.match(cefLine(flow, VERSION),
    /^CEF:0\|tunnelhound\|tunnelhound\|9\.8\.7\|flow\|flow record\|1\|/);
});

t.test('sink URL rules', async (t) => {
  t.same(parseSyslogUrl('tls://logs.example:6514'),
    { protocol: 'tls', host: 'logs.example', port: 6514 });
  t.same(parseSyslogUrl('udp://[::1]:514'), { protocol: 'udp', host: '::1', port: 514 });
  for (const bad of ['http://h:514', 'tcp://h', 'tcp://h:0', 'tcp://h:70000', 'tcp://:514',
    'tcp://h:514/x', 'tcp://u@h:514', 'tcp://h:514?a', 'not a url']) {
    t.throws(() => parseSyslogUrl(bad), { code: 'ERR_SINK_URL', message: new RegExp(
      bad.replace(/[?.*[\]]/g, '\\$&') + '.*udp://host:port') }, bad);
  }
});

t.test('sink option rules', async (t) => {
  const url = 'tcp://127.0.0.1:6514';
  t.throws(() => createSyslogSink({ url: 'tcp://h', format: 'json' }), { code: 'ERR_SINK_URL' });
  t.throws(() => createSyslogSink({ url, format: 'json', caFile: '/x' }),
    { code: 'ERR_SINK_OPTION', message: /caFile applies to tls:\/\/ only/ });
  t.throws(() => createSyslogSink({ url, format: 'json', facility: 24 }),
    { code: 'ERR_SINK_OPTION', message: /facility must be an integer 0-23, got 24/ });
  t.throws(() => createSyslogSink({ url, format: 'xml' as 'json' }),
    { code: 'ERR_SINK_OPTION', message: /format must be json or cef/ });
  t.throws(() => createSyslogSink({ url: 'tls://h:1', format: 'json', caFile: '/nonexistent' }),
    { code: 'ERR_SINK_TLS_FILE', message: /caFile "\/nonexistent": cannot be read/ });
  t.throws(() => createSyslogSink({ url: 'tls://h:1', format: 'json', certFile: '/x' }),
    { code: 'ERR_SINK_TLS_FILE', message: /give both/ });
});

t.test('lines that are not our ECS documents go out as they are', async (t) => {
  const json = new SyslogTransport({ protocol: 'udp', host: '127.0.0.1', port: 9,
    format: 'json' });
  t.match(json.message('not json'), /^<134>1 - \S+ tunnelhound \d+ flow - not json$/);
  const cef = new SyslogTransport({ protocol: 'udp', host: '127.0.0.1', port: 9,
    format: 'cef' });
  t.match(cef.message('{"event":{"kind":"alert"}}'),
    /^<132>1 - \S+ tunnelhound \d+ alert - \{"event":\{"kind":"alert"\}\}$/,
    'JSON not shaped like ECS: sent as JSON');
  t.match(cef.message(JSON.stringify(alertDoc(0))), / alert - CEF:0\|tunnelhound\|/);
});

// ---- a real rsyslogd --------------------------------------------------------------------------

const noRsyslog = RSYSLOGD === undefined && 'rsyslogd not installed (apt-get install rsyslog)';
const noGtls = !HAS_GTLS && 'rsyslog GnuTLS driver not installed (apt-get install rsyslog-gnutls)';
const DELIVERY_WAIT_MS = 10000;

async function roundTrip(t: Test, input: RsyslogInput, format: 'json' | 'cef', n: number) {
  const rs = await createRsyslog(input);
  t.teardown(() => destroyRsyslog(rs));
  await rs.start();
  const tr = new SyslogTransport({ protocol: input, host: input === 'tls' ? 'localhost'
    : '127.0.0.1', port: rs.port, format, productVersion: VERSION,
  ca: rs.caFile === undefined ? undefined : fs.readFileSync(rs.caFile) });
  t.teardown(() => tr.close());
  const docs = Array.from({ length: n }, (_v, i) => alertDoc(i));
  const batch = (from: number, to: number) => tr.send(docs.slice(from, to)
    .map((d) => JSON.stringify(d)));
  if (input === 'udp') {
    // Datagrams of two concurrent sends may interleave; one after the other keeps the order.
    await batch(0, n >> 1);
    await batch(n >> 1, n);
  } else {
    // Two batches at once share one connection, several octet-counted frames back to back.
    await Promise.all([batch(0, n >> 1), batch(n >> 1, n)]);
    t.equal(tr.stats().connects, 1, 'one connection');
  }
  const lines = await rs.waitForLines(n, DELIVERY_WAIT_MS);
  t.equal(lines.length, n, `${n} alerts, ${n} messages`);
  lines.forEach((line, i) => {
    const m = parse5424(line);
    if (m === null) { t.fail(`not RFC 5424: ${line}`); return; }
    t.same([m.pri, m.host, m.app, m.procId, m.msgId, m.sd],
      [131, os.hostname(), 'tunnelhound', String(process.pid), 'alert', '-']);
    t.equal(m.ts, docs[i]['@timestamp']);
    if (format === 'json') {
      t.same(JSON.parse(m.msg), docs[i], 'JSON payload intact');
    } else {
      const { header, ext } = parseCef(m.msg);
      t.equal(header[5], 'Pipe | and back\\slash');
      t.equal(ext.msg, docs[i].rule!.description, 'escapes survive the trip');
      t.equal(ext.externalId, docs[i].event.id);
      t.equal(ext.spt, String(docs[i].source.port));
    }
  });
}

t.test('rsyslog TCP, JSON payload', { skip: noRsyslog }, (t) => roundTrip(t, 'tcp', 'json', 20));
t.test('rsyslog TCP, CEF payload', { skip: noRsyslog }, (t) => roundTrip(t, 'tcp', 'cef', 10));
t.test('rsyslog TLS, JSON payload', { skip: noRsyslog || noGtls },
  (t) => roundTrip(t, 'tls', 'json', 20));
t.test('rsyslog TLS, CEF payload', { skip: noRsyslog || noGtls },
  (t) => roundTrip(t, 'tls', 'cef', 10));
t.test('rsyslog UDP, JSON payload', { skip: noRsyslog }, (t) => roundTrip(t, 'udp', 'json', 10));

t.test('TCP send rejects while the receiver is down', { skip: noRsyslog }, async (t) => {
  const rs = await createRsyslog('tcp');
  t.teardown(() => destroyRsyslog(rs));
  const tr = new SyslogTransport({ protocol: 'tcp', host: '127.0.0.1', port: rs.port,
    format: 'json' });
  t.teardown(() => tr.close());
  await t.rejects(tr.send([JSON.stringify(alertDoc(0))]), { code: 'ECONNREFUSED' });
  await rs.start();
  await tr.send([JSON.stringify(alertDoc(1))]);
  const lines = await rs.waitForLines(1, DELIVERY_WAIT_MS);
  t.equal(lines.length, 1, 'only the message sent once the receiver was up');
  t.equal(tr.stats().connects, 1);
});

/** Fast retries so a receiver that comes up is found within a second. */
const QUICK = { batchMaxMs: 50, backoffMinMs: 100, backoffMaxMs: 500 };
const CLOSE_TIMEOUT_MS = 5000;
const DOWN_FOR_MS = 2000;

for (const input of ['tcp', 'tls'] as const) {
  t.test(`${input}: receiver down at start, every alert arrives exactly once`,
    { skip: noRsyslog || (input === 'tls' && noGtls) }, async (t) => {
      const rs = await createRsyslog(input);
      t.teardown(() => destroyRsyslog(rs));
      const sink = createSyslogSink({
        name: `th-${input}`, url: `${input}://${input === 'tls' ? 'localhost' : '127.0.0.1'}:` +
          rs.port, format: 'json', caFile: rs.caFile, delivery: QUICK,
      });
      const n = 30;
      const docs = Array.from({ length: n }, (_v, i) => alertDoc(i));
      docs.slice(0, n / 2).forEach((d) => sink.push(JSON.stringify(d), 'alert'));
      await new Promise((r) => setTimeout(r, DOWN_FOR_MS));
      t.ok(sink.stats().retried > 0, 'sends failed and were retried while it was down');
      docs.slice(n / 2).forEach((d) => sink.push(JSON.stringify(d), 'alert'));
      await rs.start();
      const lines = await rs.waitForLines(n, DELIVERY_WAIT_MS);
      await sink.close(CLOSE_TIMEOUT_MS);
      t.equal(rs.lines().length, n, 'N alerts, N messages: none lost, none twice');
      const got = lines.map((l) => (JSON.parse(parse5424(l)!.msg) as EcsDocument).event.id);
      t.same(got.slice().sort(), docs.map((d) => d.event.id).sort(), 'each id once');
      t.match(sink.stats(), { sent: n, dropped: 0, queued: 0 });
    });
}
