// Edge cases of the endpoint mappings that no corpus sample reaches: alternative renderings
// (eslogger without event_type, evtx_dump EventID with attributes, osquery batch form),
// absent or wrong-typed members, and the socket-role guess and its bound.

import t from 'tap';
import { parseEndpointText } from '../src/endpoint/readers/index';
import { MAX_JSON_RECORD_CHARS } from '../src/endpoint/readers/json-framer';
import { MAX_LISTEN_PORTS, SocketRoleGuesser } from '../src/endpoint/readers/socket-role';
import { MAX_TEXT_RECORD_LINES } from '../src/endpoint/readers/winevent-text';
import { int, ip, isoOf, toSeconds } from '../src/endpoint/readers/util';

const lines = (...objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join('\n');

t.test('eslogger: event kinds told by their key, token forms, bad records', async (t) => {
  const r = parseEndpointText(lines(
    { schema_version: 1, version: 9, event_type: 9, time: '2024-01-01T00:00:00Z',
      process: { audit_token: { pid: 5 } }, event: { exec: { args: ['ssh', '-R', '9000:x:22',
        'a b'], target: { audit_token: { pid: 5 }, ppid: 4,
        executable: { path: '/usr/bin/ssh' } } } } },
    { schema_version: 1, version: 10, time: '2024-01-01T00:00:01Z', mach_time: 1,
      process: { audit_token: [0, 0, 0, 0, 0, 6, 0, 0], executable: { path: '/bin/zsh' } },
      event: { fork: { child: { audit_token: [0, 0, 0, 0, 0, 7, 0] } } } },
    { schema_version: 1, event_type: 15, time: '2024-01-01T00:00:02Z',
      process: { audit_token: 'bogus', ppid: '3' }, event: { exit: { stat: 0 } } },
    { schema_version: 1, event_type: 1, time: '2024-01-01T00:00:03Z', process: {}, event: {} },
    { schema_version: 1, event_type: 9, process: {}, event: {} },
  ));
  t.equal(r.format, 'eslogger');
  t.same(r.events.map((e) => [e.event.action, e.process.pid, e.process.parent?.pid]), [
    ['exec', 5, 4],
    ['fork', undefined, 6],
    ['exit', undefined, 3],
  ], 'a 7-long token array and a string token give no pid');
  t.equal(r.events[0].process.command_line, 'ssh -R 9000:x:22 "a b"');
  t.equal(r.events[1].process.parent?.executable, '/bin/zsh');
  t.equal(r.malformed, 1, 'the record without time');
});

t.test('evtx_dump JSON lines: EventID with attributes, UserData, bad records', async (t) => {
  const sys = (id: unknown, channel: string) => ({
    Provider: { '#attributes': { Name: 'x' } }, EventID: id, Channel: channel,
    Computer: 'h', TimeCreated: { '#attributes': { SystemTime: '2024-01-01T00:00:00.5Z' } },
    Execution: { '#attributes': { ProcessID: 900 } },
  });
  const r = parseEndpointText(lines(
    { Event: { System: sys({ '#text': 1149, '#attributes': { Qualifiers: '' } },
      'Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational'),
    UserData: { EventXML: { '#attributes': {}, Param1: 'u', Param2: 'd', Param3: '::1' } } } },
    { Event: { System: sys(5156, 'Security'), EventData: { Direction: '%%14593',
      ProcessID: 12, Application: 'C:\\a.exe', SourceAddress: '10.0.0.1', SourcePort: 1,
      DestAddress: '10.0.0.2', DestPort: 2, Protocol: 17 } } },
    { Event: { System: sys(5156, 'Security'), EventData: { Direction: '%%99999' } } },
    { Event: { System: sys('x', 'Security') } },
    { Event: {} },
  ));
  t.equal(r.format, 'evtx-json');
  t.same(r.events.map((e) => [e.event.action, e.process.pid, e.destination, e.network]), [
    ['accept', 900, { ip: '::1' }, { direction: 'ingress' }],
    ['connect', 12, { ip: '10.0.0.2', port: 2 }, { transport: 'udp', direction: 'egress' }],
  ]);
  t.equal(r.malformed, 2, 'EventID not a number, no System');
});

t.test('osquery: socket_events, batch form, removed rows, platform from path', async (t) => {
  const head = { name: 'q', hostIdentifier: 'h', calendarTime: 'x', unixTime: 1700000000 };
  const r = parseEndpointText(lines(
    { ...head, columns: { action: 'bind', pid: '3', path: '/usr/bin/socat', local_address:
      '0.0.0.0', remote_address: '', local_port: '8443', remote_port: '0', protocol: '6',
      time: '1700000001' }, action: 'added' },
    { ...head, columns: { action: 'connect', pid: '3', local_address: '', remote_address:
      '1.2.3.4', local_port: '0', remote_port: '22', time: '1700000002' }, action: 'removed' },
    { ...head, columns: { action: 'sendto', pid: '3', local_address: '', remote_address: '',
      time: '1700000002' }, action: 'added' },
    { ...head, diffResults: { added: [{ pid: '9', path: 'C:\\Windows\\plink.exe',
      local_address: '10.0.0.9', remote_address: '10.0.0.1', local_port: '8443',
      remote_port: '50000', state: 'ESTABLISHED' }, 'junk'], removed: [{ pid: '9',
      local_address: '10.0.0.9', remote_address: '10.0.0.1', local_port: '8443',
      remote_port: '50000' }] } },
    { ...head, snapshot: [{ uid: '0' }] },
    { name: 'q', hostIdentifier: 'h', columns: {} },
    { ...head, rows: [] },
  ));
  t.equal(r.format, 'osquery');
  t.same(r.events.map((e) => [e.event.action, e.event.code, e.platform, e.source]), [
    ['listen', 'socket_events/bind', 'unknown', { ip: '0.0.0.0', port: 8443 }],
    ['accept', 'process_open_sockets/guessed', 'windows', { ip: '10.0.0.9', port: 8443 }],
  ], 'the bind taught the guesser that 8443 listens');
  t.equal(r.malformed, 2, 'no unixTime; no rows');
});

t.test('socket role guess and its bound', async (t) => {
  const g = new SocketRoleGuesser();
  t.equal(g.role(undefined, 22), 'connect');
  t.equal(g.role(22, undefined), 'connect');
  t.equal(g.role(22, 50000), 'accept');
  t.equal(g.role(50000, 22), 'connect');
  g.noteListen(undefined);
  for (let p = 1; p <= MAX_LISTEN_PORTS + 1; p++) g.noteListen(10000 + p);
  t.equal(g.role(10001, 60000), 'connect', 'the oldest port was forgotten');
  t.equal(g.role(10002, 60000), 'accept');
});

t.test('OpenSSH for Windows payload lines', async (t) => {
  const ev = (payload: string) => '<Event><System><EventID>4</EventID>' +
    '<TimeCreated SystemTime="2024-01-01 00:00:00.000000"/><Channel>OpenSSH/Operational' +
    '</Channel><Execution ProcessID="31"/></System><EventData><Data Name="process">sshd' +
    `</Data><Data Name="payload">${payload}</Data><Data>unnamed</Data></EventData></Event>`;
  const other = '<Event><System><EventID>4</EventID><TimeCreated SystemTime="2024-01-01"/>' +
    '<Channel>Application</Channel></System></Event>';
  const r = parseEndpointText([
    ev('Connection from 192.0.2.1 port 50001 on 10.0.0.4 port 22'),
    ev('Accepted publickey for ana from 192.0.2.1 port 50001 ssh2'),
    ev('Received disconnect from 192.0.2.1'),
    other,
  ].join('\n'));
  t.same(r.events.map((e) => [e.event.action, e.source, e.destination, e.user]), [
    ['accept', { ip: '10.0.0.4', port: 22 }, { ip: '192.0.2.1', port: 50001 }, undefined],
    ['accept', undefined, { ip: '192.0.2.1', port: 50001 }, { name: 'ana' }],
  ]);
  t.equal(r.malformed, 0);
});

t.test('value helpers', async (t) => {
  t.equal(int('0x1F'), 31);
  t.equal(int('12a'), undefined);
  t.equal(int(-1), undefined);
  t.equal(int(2 ** 40), undefined);
  t.equal(int(null), undefined);
  t.equal(ip('[fe80::1%eth0]'), 'fe80::1');
  t.equal(ip(' - '), undefined);
  t.equal(toSeconds('2024-01-01T00:00:00+02:00'), Date.UTC(2023, 11, 31, 22) / 1000);
  t.equal(toSeconds(1700000000123), 1700000000.123);
  t.equal(toSeconds('1700000000'), 1700000000);
  t.equal(toSeconds('2024-13-45T00:00:00Z'), undefined);
  t.equal(toSeconds(5), undefined, 'before 1990 is not a plausible event time');
  t.equal(toSeconds({}), undefined);
  t.equal(isoOf(1700000000.5), '2023-11-14T22:13:20.500000Z');
});

t.test('WinEventLog text: 5156 and 4624 labels, ESXi sshd accepted', async (t) => {
  const head = (code: number) =>
    `01/02/2024 09:15:00 AM\nLogName=Security\nEventCode=${code}\nComputerName=ws9\nMessage=x`;
  const r = parseEndpointText([
    head(5156), 'Application Information:', '\tProcess ID:\t\t4242',
    '\tApplication Name:\t\\device\\harddiskvolume2\\tools\\plink.exe',
    'Network Information:', '\tDirection:\t\tOutbound', '\tSource Address:\t\t10.0.0.7',
    '\tSource Port:\t\t50123', '\tDestination Address:\t203.0.113.5',
    '\tDestination Port:\t\t443', '\tProtocol:\t\t6',
    head(4624), 'Subject:', '\tAccount Name:\t\tWS9$', 'New Logon:', '\tAccount Name:\t\tana',
    '\tAccount Domain:\t\tCORP', 'Logon Information:', '\tLogon Type:\t\t10',
    'Process Information:', '\tProcess ID:\t\t0x658',
    '\tProcess Name:\t\tC:\\Windows\\System32\\winlogon.exe',
    'Network Information:', '\tSource Network Address:\t127.0.0.1', '\tSource Port:\t\t49164',
  ].join('\n'));
  t.equal(r.format, 'winevent-text');
  t.same(r.events.map((e) => [e.event.action, e.event.code, e.process.pid, e.process.name,
    e.source, e.destination, e.user]), [
    ['connect', '5156', 4242, 'plink.exe', { ip: '10.0.0.7', port: 50123 },
      { ip: '203.0.113.5', port: 443 }, undefined],
    ['accept', '4624/10', 1624, 'winlogon.exe', undefined, { ip: '127.0.0.1', port: 49164 },
      { name: 'ana', domain: 'CORP' }],
  ]);
  t.equal(r.events[0].ts, Date.UTC(2024, 0, 2, 9, 15) / 1000, '09 AM read as UTC');

  const esxi = parseEndpointText('<38>2024-02-02T10:00:00Z esx1 sshd[77]: Accepted ' +
    'keyboard-interactive/pam for root from 192.0.2.8 port 61000 ssh2\n');
  t.same(esxi.events.map((e) => [e.event.action, e.process, e.user, e.destination]), [
    ['accept', { pid: 77, name: 'sshd' }, { name: 'root' }, { ip: '192.0.2.8', port: 61000 }],
  ]);
});

t.test('bounded buffers: an endless JSON value and an endless text record', async (t) => {
  const good = '{\n  "@timestamp": "2024-01-01T00:00:00Z",\n  "event": {"action": "exec"},\n' +
    '  "process": {"pid": 8}\n}';
  const filler = `  "pad": "${'y'.repeat(64 * 1024)}",`;
  const fillers = Array(Math.ceil(MAX_JSON_RECORD_CHARS / filler.length) + 2).fill(filler);
  const endless = ['{', ...fillers, '  "end": 1', '}'];
  const r = parseEndpointText([good, ...endless, '{', '  "bad": ,', '}', good].join('\n'));
  t.equal(r.format, 'ecs');
  t.same(r.events.map((e) => e.process.pid), [8, 8], 'both good values survive');
  t.equal(r.malformed, 2, 'the oversized value once, the framed but invalid value once');

  const rec = '06/07/2024 01:02:03 AM\nLogName=Security\nEventCode=4689\nMessage=x\n' +
    'Process Information:\n\tProcess ID:\t0x2a\n\tProcess Name:\tC:\\a.exe';
  const runaway = Array(MAX_TEXT_RECORD_LINES + 5).fill('\tfiller: line').join('\n');
  const w = parseEndpointText(`${rec}\n${runaway}\n${rec}\n`);
  t.equal(w.format, 'winevent-text');
  t.same(w.events.map((e) => [e.event.action, e.process.pid]), [['exit', 42]]);
  // 7 record lines + 393 filler reach the cap; the 394th drops the record (1), and the 11
  // filler lines left are outside any record (11).
  t.equal(w.malformed, 12, 'the runaway record is dropped and its tail counted');
});

t.test('ECS: Winlogbeat without its ingest pipeline, from winlog.event_data', async (t) => {
  const r = parseEndpointText(lines(
    { '@timestamp': '2024-03-03T10:00:00.250Z', event: { code: '3', kind: 'event',
      action: 'Network connection detected (rule: NetworkConnect)' },
    winlog: { channel: 'Microsoft-Windows-Sysmon/Operational', computer_name: 'ws7',
      provider_name: 'Microsoft-Windows-Sysmon', event_id: '3', event_data: {
        UtcTime: '2024-03-03 10:00:00.123', ProcessId: '4711', Image: 'C:\\t\\ssh.exe',
        Protocol: 'tcp', Initiated: 'true', SourceIp: '10.0.0.7', SourcePort: '50001',
        DestinationIp: '198.51.100.4', DestinationPort: '443', User: 'CORP\\ana',
        Nested: { x: 1 } } } },
    { '@timestamp': '2024-03-03T10:00:01Z', event: { code: '4661' },
      winlog: { channel: 'Security', event_id: 4661, event_data: { ObjectName: 'x' } } },
  ));
  t.equal(r.format, 'ecs');
  t.same(r.events, [{
    '@timestamp': '2024-03-03T10:00:00.123000Z', ts: 1709460000.123, host: { name: 'ws7' },
    process: { pid: 4711, executable: 'C:\\t\\ssh.exe', name: 'ssh.exe' },
    user: { domain: 'CORP', name: 'ana' }, source: { ip: '10.0.0.7', port: 50001 },
    destination: { ip: '198.51.100.4', port: 443 },
    network: { transport: 'tcp', direction: 'egress' },
    event: { action: 'connect', module: 'sysmon', code: '3', line: 1 }, platform: 'windows',
  }]);
  t.equal(r.malformed, 0);
});

t.test('Windows records without a usable time are counted malformed, not dropped unseen',
  async (t) => {
    const sec = (time: string) => '<Event><System><EventID>4688</EventID>' +
      `${time}<Channel>Security</Channel></System><EventData>` +
      '<Data Name="NewProcessId">0x10</Data><Data Name="NewProcessName">C:\\a.exe</Data>' +
      '</EventData></Event>';
    const sysmon = (utc: string) => '<Event><System><Provider Name="Microsoft-Windows-Sysmon"/>' +
      '<EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel></System>' +
      `<EventData><Data Name="UtcTime">${utc}</Data><Data Name="ProcessId">7</Data>` +
      '<Data Name="Image">C:\\b.exe</Data></EventData></Event>';
    const r = parseEndpointText([
      sec('<TimeCreated SystemTime="2024-01-01T00:00:00.000Z"/>'),
      sec(''), // no TimeCreated at all
      sec('<TimeCreated SystemTime="yesterday"/>'),
      sysmon('2024-01-01 00:00:01.000'), // UtcTime stands in for TimeCreated
      sysmon('2200-01-01 00:00:01.000'), // outside 1990-2100: a wrong value
    ].join('\n'));
    t.same(r.events.map((e) => [e.event.action, e.process?.pid, e['@timestamp']]), [
      ['exec', 16, '2024-01-01T00:00:00Z'],
      ['exec', 7, '2024-01-01T00:00:01Z'],
    ]);
    t.equal(r.malformed, 3, 'two Security records and one Sysmon record without a time');
  });
