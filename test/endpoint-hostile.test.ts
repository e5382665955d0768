// Hostile endpoint feeds: garbage lines, truncated records, wrong-typed fields. Every good
// event must survive, every bad line or record must be counted, nothing may throw. Also the
// CLI's exit codes and a few mappings the corpus has no sample of (OCSF network activity,
// WFP 5158, OpenSSH connection lines, ESXi sshd).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { parseEndpointText, detectFormat, createReader } from '../src/endpoint/readers/index';
import { MAX_XML_RECORD_CHARS } from '../src/endpoint/readers/windows-xml';
import { runCli } from './helpers/cli';

const sysmon3 = (pid: number, line = false) => {
  const nl = line ? '\n' : '';
  return `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>${nl}` +
    `<Provider Name="Microsoft-Windows-Sysmon"/><EventID>3</EventID>${nl}` +
    `<TimeCreated SystemTime="2024-01-02T03:04:05.000000Z"/><Channel>Microsoft-Windows-Sysmon/` +
    `Operational</Channel><Computer>ws1</Computer></System>${nl}<EventData>` +
    `<Data Name="UtcTime">2024-01-02 03:04:05.123</Data><Data Name="ProcessId">${pid}</Data>${nl}` +
    `<Data Name="Image">C:\\x\\plink.exe</Data><Data Name="Protocol">tcp</Data>` +
    `<Data Name="Initiated">true</Data><Data Name="SourceIp">10.0.0.1</Data>${nl}` +
    `<Data Name="SourcePort">50000</Data><Data Name="DestinationIp">10.0.0.2</Data>` +
    `<Data Name="DestinationPort">22</Data></EventData></Event>`;
};

t.test('XML: garbage, truncated and broken records lose no good event', async (t) => {
  const text = [
    '<?xml version="1.0"?>',
    '<Events>',
    sysmon3(101, true),
    'GARBAGE LINE \u0000\u00ff',
    sysmon3(102).slice(0, 200), // truncated: the next <Event> starts before it closes
    sysmon3(103, true),
    '<Event><System><EventID>3</EventID></Sys></Event>', // mismatched tags
    `${sysmon3(104)}${sysmon3(105)}`, // two records on one line
    sysmon3(106).replace('<Data Name="ProcessId">106</Data>', '<Data Name="ProcessId">x</Data>'),
    '<Event><System><EventID>three</EventID></System></Event>', // wrong type for EventID
    '</Events>',
    sysmon3(107).slice(0, 300), // truncated at end of input
  ].join('\n');
  const r = parseEndpointText(text);
  t.equal(r.format, 'sysmon-xml');
  t.same(r.events.map((e) => e.process.pid), [101, 103, 104, 105, undefined]);
  t.equal(r.events[4].source?.port, 50000, 'wrong-typed pid drops the pid, keeps the event');
  t.equal(r.malformed, 5, 'garbage + truncated + mismatched + bad EventID + truncated at end');
  t.equal(r.events[1].event.line, 11, 'line of the record start');
});

t.test('XML: a record that never closes is dropped at the size cap', async (t) => {
  const reader = createReader('sysmon-xml');
  reader.push('<Event><System>', 1);
  const filler = 'x'.repeat(64 * 1024);
  let n = 2;
  while (reader.malformed === 0 && n < 100) reader.push(filler, n++);
  t.equal(n - 2, Math.ceil(MAX_XML_RECORD_CHARS / (filler.length + 1)), 'dropped at the cap');
  t.same(reader.push(sysmon3(7), n).map((e) => e.process.pid), [7], 'next record still read');
  t.same(reader.end(), []);
  t.equal(reader.malformed, 1);
});

t.test('NDJSON: garbage, truncated objects and wrong types', async (t) => {
  const good = (pid: number) => JSON.stringify({
    '@timestamp': '2024-05-06T07:08:09.5Z', event: { action: 'connection_attempted' },
    process: { pid, name: 'ssh' }, source: { ip: '10.1.1.1', port: 40000 },
    destination: { ip: '10.2.2.2', port: 22 }, network: { transport: 'tcp', direction: 'egress' },
  });
  const text = [
    good(1),
    '{"@timestamp": "2024-05-06T07:08:09Z", "process": {"pid": 2', // truncated
    good(3),
    'not json at all',
    '[1, 2]', // valid JSON, not events
    JSON.stringify({ '@timestamp': 12, event: { action: 'exec' } }), // wrong-typed time
    JSON.stringify({ '@timestamp': '2024-05-06T07:08:09Z', event: { action: 'exec' },
      process: { pid: { nested: true }, name: ['x'], args: 'ssh' } }),
    good(4),
  ].join('\n');
  const r = parseEndpointText(text);
  t.equal(r.format, 'ecs');
  t.same(r.events.map((e) => e.process.pid), [1, 3, undefined, 4]);
  t.equal(r.events[2].process.command_line, 'ssh', 'a string args is taken as one argument');
  t.equal(r.malformed, 5, 'truncated + garbage + two numbers + bad time');
  t.same(r.events[0].source, { ip: '10.1.1.1', port: 40000 });
});

t.test('pretty-printed JSON: truncated document and garbage between values', async (t) => {
  const doc = JSON.stringify([
    { '@timestamp': '2024-01-01T00:00:00Z', event: { action: 'exec' }, process: { pid: 5 } },
    { '@timestamp': '2024-01-01T00:00:01Z', event: { action: 'exec' }, process: { pid: 6 } },
  ], null, 2);
  const r = parseEndpointText(`${doc}\nstray\n${doc.slice(0, 60)}`);
  t.same(r.events.map((e) => e.process.pid), [5, 6]);
  t.equal(r.malformed, 2, 'stray word + truncated document');
});

t.test('text formats: garbage and a runaway record', async (t) => {
  const rec = (pid: string) => [
    '03/12/2021 10:48:14 PM', 'LogName=Security', 'EventCode=4688', 'ComputerName=h1',
    'Message=A new process has been created.', '', 'Process Information:',
    `\tNew Process ID:\t\t${pid}`, '\tNew Process Name:\tC:\\w\\netsh.exe',
    '\tProcess Command Line:\tnetsh interface portproxy show all',
  ].join('\n');
  const r = parseEndpointText(`${rec('0x10')}\n${rec('bogus')}\n${rec('0x11')}`);
  t.equal(r.format, 'winevent-text');
  t.same(r.events.map((e) => e.process.pid), [16, undefined, 17]);
  t.equal(r.events[0].ts, Date.UTC(2021, 2, 12, 22, 48, 14) / 1000, 'PM read as 22h, UTC');

  const esxi = parseEndpointText([
    '<166>2024-02-02T10:00:00.000Z esx1 sshd[2001]: Server listening on 0.0.0.0 port 22.',
    'garbage',
    '<166>2024-02-02T10:00:01.000Z esx1 sshd[2002]: Connection from 192.0.2.9 port 5000 on ' +
      '10.0.0.3 port 22 rdomain ""',
    '<166>2099-99-99T10:00:01.000Z esx1 sshd[2002]: bad time',
  ].join('\n'));
  t.equal(esxi.format, 'esxi');
  t.same(esxi.events.map((e) => [e.event.action, e.source, e.destination]), [
    ['listen', { ip: '0.0.0.0', port: 22 }, undefined],
    ['accept', { ip: '10.0.0.3', port: 22 }, { ip: '192.0.2.9', port: 5000 }],
  ]);
  t.equal(esxi.malformed, 2);
});

t.test('mappings without a public sample', async (t) => {
  const ocsf = parseEndpointText([
    { class_uid: 4001, activity_id: 1, time: 1700000000000, connection_info: { direction_id: 1,
      protocol_name: 'tcp' }, src_endpoint: { ip: '198.51.100.1', port: 40000 },
    dst_endpoint: { ip: '10.0.0.5', port: 22 }, actor: { process: { pid: 9, file: {
      path: '/usr/sbin/sshd' } } }, device: { hostname: 'h', os: { name: 'Linux' } } },
    { class_uid: 4001, activity_id: 7, time: 1700000000000, src_endpoint: { ip: '0.0.0.0',
      port: 8080 }, actor: { process: { pid: 10 } } },
    { class_uid: 4001, activity_id: 1, time: 1700000000000 },
    { class_uid: 1007, activity_id: 2, time: 1700000000, process: { pid: 11 } },
  ].map((o) => JSON.stringify(o)).join('\n'));
  t.same(ocsf.events.map((e) => [e.event.action, e.process.pid, e.source, e.destination]), [
    ['accept', 9, { ip: '10.0.0.5', port: 22 }, { ip: '198.51.100.1', port: 40000 }],
    ['listen', 10, { ip: '0.0.0.0', port: 8080 }, undefined],
    ['exit', 11, undefined, undefined],
  ]);
  t.equal(ocsf.events[0].platform, 'linux');

  const sec = (id: number, data: string) => '<Event><System><EventID>' + id + '</EventID>' +
    '<TimeCreated SystemTime="2024-01-01 00:00:00.000000"/><Channel>Security</Channel>' +
    `<Computer>dc</Computer></System><EventData>${data}</EventData></Event>`;
  const d = (k: string, v: string) => `<Data Name="${k}">${v}</Data>`;
  const win = parseEndpointText([
    sec(5158, d('ProcessId', '77') + d('Application', '\\device\\x\\sshd.exe') +
      d('SourceAddress', '0.0.0.0') + d('SourcePort', '2222') + d('Protocol', '6')),
    sec(5158, d('ProcessId', '78') + d('SourceAddress', '::') + d('SourcePort', '55872')),
    sec(4689, d('ProcessId', '0x1f') + d('ProcessName', 'C:\\w\\plink.exe') +
      d('SubjectUserName', 'bob')),
    sec(4624, d('IpAddress', '-') + d('LogonType', '5')),
  ].join('\n'));
  t.equal(win.format, 'winsec-xml');
  t.same(win.events.map((e) => [e.event.action, e.process.pid, e.process.name, e.source]), [
    ['listen', 77, 'sshd.exe', { ip: '0.0.0.0', port: 2222 }],
    ['exit', 31, 'plink.exe', undefined],
  ], 'a 5158 bind in the dynamic range and a 4624 without address yield nothing');
  t.equal(win.malformed, 0);
});

t.test('detection refuses what it does not know', async (t) => {
  t.equal(detectFormat(['hello world', 'nothing here']), null);
  t.equal(detectFormat([]), null);
  t.same(parseEndpointText('hello\nworld\n'), { format: null, events: [], malformed: 2 });
  t.throws(() => createReader('nope'), /unknown endpoint format 'nope'/);
});

t.test('CLI: endpoint parse', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-ep-'));
  const file = path.join(dir, 'feed.xml');
  fs.writeFileSync(file, `${sysmon3(41)}\njunk\n${sysmon3(42)}\n`);
  const ok = await runCli(['endpoint', 'parse', file]);
  t.equal(ok.code, 0);
  t.same(ok.stdout.trim().split('\n').map((l) => JSON.parse(l).process.pid), [41, 42]);
  t.match(ok.stderr, /format=sysmon-xml events=2 malformed=1 lines=3/);

  const forced = await runCli(['endpoint', 'parse', file, '--format', 'ecs']);
  t.equal(forced.code, 0, 'a forced format that reads nothing is not an error');
  t.match(forced.stderr, /format=ecs events=0 malformed=3/);

  const missing = await runCli(['endpoint', 'parse', path.join(dir, 'absent.log')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read endpoint file/);
  const unknown = await runCli(['endpoint', 'parse', file, '--format', 'klingon']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /--format klingon is not a known endpoint format/);
  fs.writeFileSync(file, 'plain words\n');
  const undetected = await runCli(['endpoint', 'parse', file]);
  t.equal(undetected.code, 2);
  t.match(undetected.stderr, /cannot tell the format/);
  fs.rmSync(dir, { recursive: true });
});
