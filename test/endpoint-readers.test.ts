// Endpoint readers on every text sample of the shared endpoint corpus (and the hand-made
// osquery/esxcli samples in test/fixtures/endpoint): the format is detected, at least one
// event comes out, nothing is malformed, and chosen events are pinned field by field
// against the values read off the source records by hand.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { EndpointEvent } from '../src/endpoint/event';
import { knownFormats, parseEndpointText } from '../src/endpoint/readers/index';

function repoRoot(start: string): string {
  for (let dir = start; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${start}`);
}

const ROOT = repoRoot(__dirname);
const CORPUS = path.resolve(ROOT, '../shared/corpus/endpoint');
const FIXTURES = path.join(ROOT, 'test/fixtures/endpoint');

/** file -> [detected format, event count]; counts are what the mapping yields today. */
const EXPECTED: Record<string, [string, number]> = {
  'crossplatform/ecs-json/elastic-defend_endpoint.events.network_sample_event.json': ['ecs', 1],
  'esxi/elastic-integrations_vsphere_test-format-common_esxi-lines.log': ['esxi', 2],
  'linux/auditd-ecs/elastic-integrations_auditd_test-coalesced-network-events.json': ['ecs', 1],
  'linux/auditd-ecs/golibaudit_ubuntu-16.10-linux-4.8.0.coalesced.json': ['ecs', 7],
  'linux/auditd-ecs/golibaudit_ubuntu-17.04-linux-4.10.0.coalesced.json': ['ecs', 3],
  'macos/eslogger/mullvad_eslogger_exit-exec-v9_fork-v10.jsonl': ['eslogger', 3],
  'windows/ecs-json/winlogbeat_sysmon-12-processcreate.ingest.golden.json': ['ecs', 1],
  'windows/evtx-json/sigma_regression_curl_insecure_proxy_or_doh_sysmon1.json': ['evtx-json', 1],
  'windows/ocsf/ocsfex_4688_0.raw.event': ['winevent-text', 1],
  'windows/ocsf/ocsfex_4688_process_activity.ocsf.json': ['ocsf', 1],
  'windows/openssh-xml/mdecrevoisier_ID4-OpenSSH_server_listening.xml': ['winsec-xml', 6],
  'windows/security-xml/eas_DE_RDP_Tunneling_4624.xml': ['winsec-xml', 5],
  'windows/security-xml/eas_DE_RDP_Tunneling_TS-RCM_1149.xml': ['winsec-xml', 11],
  'windows/security-xml/eas_dicovery_4661_net_group_domain_admins_target_5156-benign.xml': [
    'winsec-xml',
    32,
  ],
  'windows/security-xml/mdecrevoisier_ID4688-netsh_RDP_port_forwarding_abuse.xml': [
    'winsec-xml',
    4,
  ],
  'windows/sysmon-xml/eas_DE_sysmon-3-rdp-tun.xml': ['sysmon-xml', 67],
  'windows/sysmon-xml/eas_de_portforward_netsh_rdp_sysmon_13_1.xml': ['sysmon-xml', 3],
  'windows/sysmon-xml/ocsfex_sysmon_benign_baseline.xml': ['sysmon-xml', 229],
  'fixtures:osquery-linux.handmade.log': ['osquery', 8],
  'fixtures:osquery-macos.handmade.log': ['osquery', 2],
  'fixtures:esxcli-connection-list.handmade.txt': ['esxcli', 7],
};

/** Raw audit.log is read by the auditd reader (epjoin's); checked once it is registered. */
const AUDITD_RAW = /^linux\/auditd\//;

function fileOf(name: string): string {
  return name.startsWith('fixtures:')
    ? path.join(FIXTURES, name.slice('fixtures:'.length))
    : path.join(CORPUS, name);
}

const cache = new Map<string, ReturnType<typeof parseEndpointText>>();
function parsed(name: string) {
  if (!cache.has(name)) cache.set(name, parseEndpointText(fs.readFileSync(fileOf(name), 'utf8')));
  return cache.get(name)!;
}

function find(name: string, pred: (e: EndpointEvent) => boolean): EndpointEvent | undefined {
  return parsed(name).events.find(pred);
}

t.test('every non-.evtx corpus file is covered by this test', async (t) => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('.evtx') && e.name !== 'MANIFEST.tsv') files.push(p);
    }
  };
  walk(CORPUS);
  for (const f of files) {
    const rel = path.relative(CORPUS, f);
    if (AUDITD_RAW.test(rel)) continue;
    t.ok(EXPECTED[rel], `${rel} has an expectation`);
  }
});

t.test('format detection, event counts, no malformed input', async (t) => {
  for (const [name, [format, count]] of Object.entries(EXPECTED)) {
    const r = parsed(name);
    t.equal(r.format, format, `${name} format`);
    t.equal(r.events.length, count, `${name} events`);
    t.equal(r.malformed, 0, `${name} malformed`);
    for (const ev of r.events) {
      if (!(ev.ts > 0 && ev['@timestamp'].endsWith('Z'))) t.fail(`${name} bad time ${ev.ts}`);
    }
  }
});

t.test('raw auditd samples once the auditd reader is registered', async (t) => {
  if (!knownFormats().includes('auditd')) {
    t.pass('auditd reader not registered in this build (epjoin helper writes it)');
    return;
  }
  for (const f of fs.readdirSync(path.join(CORPUS, 'linux/auditd'))) {
    const r = parseEndpointText(fs.readFileSync(path.join(CORPUS, 'linux/auditd', f), 'utf8'));
    t.equal(r.format, 'auditd', f);
    t.ok(r.events.length > 0, `${f} events`);
  }
});

/**
 * [file, a string that picks the event out of its JSON, the whole expected event]. Values
 * checked against the source records: e.g. plink's Sysmon 3 10.0.2.17:49185 -> 10.0.2.18:80,
 * TermService (pid 1276) listed local-first for the loopback RDP leg, 4624's hex ProcessId
 * 0x658 = 1624 with LogonType 10 from 127.0.0.1:49164, 5156 %%14592 inbound for lsass:389.
 */
const PINNED: [string, string, Record<string, unknown>][] = [
  [
    "windows/sysmon-xml/eas_DE_sysmon-3-rdp-tun.xml",
    "\"line\":63",
    {
      "@timestamp": "2019-02-16T10:02:21.934000Z",
      "ts": 1550311341.934,
      "host": {
        "name": "PC01.example.corp"
      },
      "process": {
        "pid": 2312,
        "executable": "C:\\Users\\IEUser\\Desktop\\plink.exe",
        "name": "plink.exe",
        "command_line":
          "plink.exe  10.0.2.18 -P 80 -C -R 127.0.0.3:4444:127.0.0.2:3389 -l test -pw test",
        "entity_id": "{365abb72-dfad-5c67-0000-0010e0811500}",
        "parent": {
          "pid": 3904,
          "executable": "C:\\Windows\\System32\\cmd.exe",
          "name": "cmd.exe",
          "command_line": "\"C:\\Windows\\system32\\cmd.exe\" "
        }
      },
      "user": {
        "domain": "PC01",
        "name": "IEUser"
      },
      "event": {
        "action": "exec",
        "module": "sysmon",
        "code": "1",
        "line": 63
      },
      "platform": "windows"
    },
  ],
  [
    "windows/sysmon-xml/eas_DE_sysmon-3-rdp-tun.xml",
    "\"line\":102",
    {
      "@timestamp": "2019-02-16T10:02:21.995000Z",
      "ts": 1550311341.995,
      "host": {
        "name": "PC01.example.corp"
      },
      "process": {
        "pid": 2312,
        "executable": "C:\\Users\\IEUser\\Desktop\\plink.exe",
        "name": "plink.exe",
        "entity_id": "{365abb72-dfad-5c67-0000-0010e0811500}"
      },
      "user": {
        "domain": "PC01",
        "name": "IEUser"
      },
      "source": {
        "ip": "10.0.2.17",
        "port": 49185
      },
      "destination": {
        "ip": "10.0.2.18",
        "port": 80
      },
      "network": {
        "transport": "tcp",
        "direction": "egress"
      },
      "event": {
        "action": "connect",
        "module": "sysmon",
        "code": "3",
        "line": 102
      },
      "platform": "windows"
    },
  ],
  [
    "windows/sysmon-xml/eas_DE_sysmon-3-rdp-tun.xml",
    "\"line\":174",
    {
      "@timestamp": "2019-02-16T10:02:46.454000Z",
      "ts": 1550311366.454,
      "host": {
        "name": "PC01.example.corp"
      },
      "process": {
        "pid": 1276,
        "executable": "C:\\Windows\\System32\\svchost.exe",
        "name": "svchost.exe",
        "entity_id": "{365abb72-d693-5c67-0000-0010c4180100}"
      },
      "user": {
        "domain": "NT AUTHORITY",
        "name": "NETWORK SERVICE"
      },
      "source": {
        "ip": "127.0.0.2",
        "port": 3389
      },
      "destination": {
        "ip": "127.0.0.1",
        "port": 49186
      },
      "network": {
        "transport": "tcp",
        "direction": "ingress"
      },
      "event": {
        "action": "accept",
        "module": "sysmon",
        "code": "3",
        "line": 174
      },
      "platform": "windows"
    },
  ],
  [
    "windows/sysmon-xml/eas_de_portforward_netsh_rdp_sysmon_13_1.xml",
    "\"config\"",
    {
      "@timestamp": "2019-05-23T17:46:05.022000Z",
      "ts": 1558633565.022,
      "host": {
        "name": "IEWIN7"
      },
      "process": {
        "pid": 4088,
        "executable": "C:\\Windows\\system32\\netsh.exe",
        "name": "netsh.exe",
        "entity_id": "{365abb72-dc5c-5ce6-0000-001066e27200}"
      },
      "event": {
        "action": "config",
        "module": "sysmon",
        "code": "13",
        "line": 82
      },
      "platform": "windows",
      "setting": {
        "key": "HKLM\\System\\CurrentControlSet\\services\\PortProxy\\v4tov4\\tcp\\1.2.3.4/8001",
        "value": "1.2.3.5/3389"
      }
    },
  ],
  [
    "windows/sysmon-xml/ocsfex_sysmon_benign_baseline.xml",
    "185.26.182.117",
    {
      "@timestamp": "2017-12-18T14:51:29.706000Z",
      "ts": 1513608689.706,
      "host": {
        "name": "DESKTOP-2KGM189"
      },
      "process": {
        "pid": 4280,
        "executable":
          "C:\\Windows\\Temp\\opera autoupdate\\CProgram FilesOpera\\installing\\installer.exe",
        "name": "installer.exe",
        "entity_id": "{94f748d5-4dcb-5a9e-0000-0010b2051110}"
      },
      "user": {
        "domain": "NT AUTHORITY",
        "name": "SYSTEM"
      },
      "source": {
        "ip": "192.168.2.128",
        "port": 59344
      },
      "destination": {
        "ip": "185.26.182.117",
        "port": 443
      },
      "network": {
        "transport": "tcp",
        "direction": "egress"
      },
      "event": {
        "action": "connect",
        "module": "sysmon",
        "code": "3",
        "line": 9957
      },
      "platform": "windows"
    },
  ],
  [
    "windows/security-xml/eas_DE_RDP_Tunneling_4624.xml",
    "49164",
    {
      "@timestamp": "2019-02-13T15:26:53.356781Z",
      "ts": 1550071613.356781,
      "host": {
        "name": "PC02.example.corp"
      },
      "process": {
        "pid": 1624,
        "executable": "C:\\Windows\\System32\\winlogon.exe",
        "name": "winlogon.exe"
      },
      "user": {
        "name": "IEUser",
        "domain": "PC02"
      },
      "destination": {
        "ip": "127.0.0.1",
        "port": 49164
      },
      "network": {
        "direction": "ingress"
      },
      "event": {
        "action": "accept",
        "module": "winsec",
        "code": "4624/10",
        "line": 536
      },
      "platform": "windows"
    },
  ],
  [
    "windows/security-xml/eas_DE_RDP_Tunneling_TS-RCM_1149.xml",
    "\"127.0.0.1\"",
    {
      "@timestamp": "2019-02-13T18:04:57.452387Z",
      "ts": 1550081097.452387,
      "host": {
        "name": "PC01.example.corp"
      },
      "process": {
        "pid": 1280
      },
      "user": {
        "name": "admin01",
        "domain": "example"
      },
      "destination": {
        "ip": "127.0.0.1"
      },
      "network": {
        "direction": "ingress"
      },
      "event": {
        "action": "accept",
        "module": "winsec",
        "code": "1149",
        "line": 4308
      },
      "platform": "windows"
    },
  ],
  [
    "windows/security-xml/eas_dicovery_4661_net_group_domain_admins_target_5156-benign.xml",
    "\"line\":84",
    {
      "@timestamp": "2019-03-18T23:23:43.570211Z",
      "ts": 1552951423.570211,
      "host": {
        "name": "WIN-77LTAPHIQ1R.example.corp"
      },
      "process": {
        "pid": 452,
        "executable": "\\device\\harddiskvolume2\\windows\\system32\\lsass.exe",
        "name": "lsass.exe"
      },
      "source": {
        "ip": "fe80::79bf:8ee2:433c:2567",
        "port": 389
      },
      "destination": {
        "ip": "fe80::79bf:8ee2:433c:2567",
        "port": 55872
      },
      "network": {
        "transport": "tcp",
        "direction": "ingress"
      },
      "event": {
        "action": "accept",
        "module": "winsec",
        "code": "5156",
        "line": 84
      },
      "platform": "windows"
    },
  ],
  [
    "windows/security-xml/eas_dicovery_4661_net_group_domain_admins_target_5156-benign.xml",
    "\"line\":53",
    {
      "@timestamp": "2019-03-18T23:23:43.570211Z",
      "ts": 1552951423.570211,
      "host": {
        "name": "WIN-77LTAPHIQ1R.example.corp"
      },
      "process": {
        "pid": 1452,
        "executable": "\\device\\harddiskvolume2\\windows\\system32\\dns.exe",
        "name": "dns.exe"
      },
      "source": {
        "ip": "fe80::79bf:8ee2:433c:2567",
        "port": 55872
      },
      "destination": {
        "ip": "fe80::79bf:8ee2:433c:2567",
        "port": 389
      },
      "network": {
        "transport": "tcp",
        "direction": "egress"
      },
      "event": {
        "action": "connect",
        "module": "winsec",
        "code": "5156",
        "line": 53
      },
      "platform": "windows"
    },
  ],
  [
    "windows/security-xml/mdecrevoisier_ID4688-netsh_RDP_port_forwarding_abuse.xml",
    "listena=0.0.0.0 connectp=3389",
    {
      "@timestamp": "2021-06-03T12:17:58.582712Z",
      "ts": 1622722678.582712,
      "host": {
        "name": "fs01.offsec.lan"
      },
      "process": {
        "pid": 1400,
        "executable": "C:\\Windows\\System32\\netsh.exe",
        "name": "netsh.exe",
        "command_line": "netsh  I p a v l=8001 listena=0.0.0.0 connectp=3389 c=1.1.1.1",
        "parent": {
          "pid": 2616,
          "executable": "C:\\Windows\\System32\\cmd.exe",
          "name": "cmd.exe"
        }
      },
      "user": {
        "name": "admmig",
        "domain": "OFFSEC"
      },
      "event": {
        "action": "exec",
        "module": "winsec",
        "code": "4688",
        "line": 27
      },
      "platform": "windows"
    },
  ],
  [
    "windows/openssh-xml/mdecrevoisier_ID4-OpenSSH_server_listening.xml",
    "\"0.0.0.0\"",
    {
      "@timestamp": "2021-04-22T10:10:37.041893Z",
      "ts": 1619086237.041893,
      "host": {
        "name": "win10-02.offsec.lan"
      },
      "process": {
        "pid": 3912,
        "name": "sshd"
      },
      "source": {
        "ip": "0.0.0.0",
        "port": 22
      },
      "network": {
        "transport": "tcp"
      },
      "event": {
        "action": "listen",
        "module": "openssh",
        "code": "4",
        "line": 24
      },
      "platform": "windows"
    },
  ],
  [
    "windows/evtx-json/sigma_regression_curl_insecure_proxy_or_doh_sysmon1.json",
    "curl",
    {
      "@timestamp": "2025-12-11T06:45:56.239000Z",
      "ts": 1765435556.239,
      "host": {
        "name": "swachchhanda"
      },
      "process": {
        "pid": 13700,
        "executable": "C:\\Windows\\System32\\curl.exe",
        "name": "curl.exe",
        "command_line":
          "curl  --proxy-insecure -p -x http://127.0.0.1:1234 --silent -v --show-error http://1" +
          "27.0.0.1:888/echo",
        "entity_id": "0197231E-68A4-693A-0713-000000000800",
        "hash": {
          "sha256": "8955d2a45404a59c2e3772f3c76aeeae48aedf100be328c003d7a4df5342b491"
        },
        "parent": {
          "pid": 14736,
          "executable": "C:\\Windows\\System32\\cmd.exe",
          "name": "cmd.exe",
          "command_line": "\"C:\\WINDOWS\\system32\\cmd.exe\""
        }
      },
      "user": {
        "domain": "swachchhanda",
        "name": "xodih"
      },
      "event": {
        "action": "exec",
        "module": "sysmon",
        "code": "1",
        "line": 1
      },
      "platform": "windows"
    },
  ],
  [
    "windows/ecs-json/winlogbeat_sysmon-12-processcreate.ingest.golden.json",
    "notepad",
    {
      "@timestamp": "2020-10-27T20:00:14.320000Z",
      "ts": 1603828814.32,
      "host": {
        "name": "vagrant"
      },
      "process": {
        "pid": 3616,
        "name": "notepad.exe",
        "executable": "C:\\Windows\\System32\\notepad.exe",
        "command_line": "\"C:\\Windows\\system32\\notepad.exe\" ",
        "args": [
          "C:\\Windows\\system32\\notepad.exe"
        ],
        "entity_id": "{9F32B55F-7C4E-5F98-5803-000000000500}",
        "parent": {
          "pid": 4212,
          "name": "explorer.exe",
          "executable": "C:\\Windows\\explorer.exe",
          "command_line": "C:\\Windows\\Explorer.EXE"
        }
      },
      "user": {
        "name": "vagrant",
        "domain": "VAGRANT"
      },
      "event": {
        "action": "exec",
        "module": "ecs",
        "code": "1",
        "line": 2
      },
      "platform": "windows"
    },
  ],
  [
    "windows/ocsf/ocsfex_4688_process_activity.ocsf.json",
    "reg.exe",
    {
      "@timestamp": "2021-03-12T15:48:14Z",
      "ts": 1615564094,
      "host": {
        "name": "win-dc-725.attackrange.local"
      },
      "process": {
        "pid": 4696,
        "executable": "C:\\Windows\\System32\\reg.exe",
        "name": "reg.exe",
        "command_line": "reg  save HKLM\\system C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\system ",
        "parent": {
          "pid": 3948,
          "executable": "C:\\Windows\\System32\\cmd.exe",
          "name": "cmd.exe"
        }
      },
      "user": {
        "name": "Administrator",
        "domain": "ATTACKRANGE"
      },
      "event": {
        "action": "exec",
        "module": "ocsf",
        "code": "100701",
        "line": 1
      },
      "platform": "windows"
    },
  ],
  [
    "windows/ocsf/ocsfex_4688_0.raw.event",
    "reg.exe",
    {
      "@timestamp": "2021-03-12T10:48:14Z",
      "ts": 1615546094,
      "host": {
        "name": "win-dc-725.attackrange.local"
      },
      "process": {
        "pid": 4696,
        "executable": "C:\\Windows\\System32\\reg.exe",
        "name": "reg.exe",
        "command_line": "reg  save HKLM\\system C:\\Users\\ADMINI~1\\AppData\\Local\\Temp\\system",
        "parent": {
          "pid": 3948,
          "executable": "C:\\Windows\\System32\\cmd.exe",
          "name": "cmd.exe"
        }
      },
      "user": {
        "name": "Administrator",
        "domain": "ATTACKRANGE"
      },
      "event": {
        "action": "exec",
        "module": "winsec",
        "code": "4688",
        "line": 1
      },
      "platform": "windows"
    },
  ],
  [
    "crossplatform/ecs-json/elastic-defend_endpoint.events.network_sample_event.json",
    "GCE",
    {
      "@timestamp": "2022-04-04T18:52:00.600781Z",
      "ts": 1649098320.600781,
      "host": {
        "name": "mgmt-win-1",
        "ip": [
          "10.201.0.32",
          "fe80::f8e6:a511:69ea:27c4",
          "127.0.0.1",
          "::1"
        ]
      },
      "process": {
        "pid": 580,
        "name": "GCEWindowsAgent.exe",
        "executable": "C:\\Program Files\\Google\\Compute Engine\\agent\\GCEWindowsAgent.exe",
        "entity_id":
          "YWZkMzQ4YzYtMGVjOS00OTYxLTgwNWUtOGVkMmZjNGMwNDNiLTU4MC0xMzI5MzU0OTExMy40ODIyMTUwMDA="
      },
      "user": {
        "name": "SYSTEM",
        "domain": "NT AUTHORITY"
      },
      "source": {
        "ip": "10.201.0.32",
        "port": 54924
      },
      "destination": {
        "ip": "64.233.191.95",
        "port": 443
      },
      "network": {
        "transport": "tcp",
        "direction": "egress"
      },
      "event": {
        "action": "connect",
        "module": "ecs",
        "code": "disconnect_received",
        "line": 1
      },
      "platform": "windows"
    },
  ],
  [
    "linux/auditd-ecs/elastic-integrations_auditd_test-coalesced-network-events.json",
    "1500",
    {
      "@timestamp": "2016-12-07T02:20:34Z",
      "ts": 1481077234,
      "host": {},
      "process": {
        "pid": 1500
      },
      "user": {
        "name": "root"
      },
      "source": {
        "ip": "10.0.1.5",
        "port": 22
      },
      "destination": {
        "ip": "89.160.20.156",
        "port": 56473
      },
      "network": {
        "direction": "ingress"
      },
      "event": {
        "action": "accept",
        "module": "ecs",
        "code": "started-crypto-session",
        "line": 1
      },
      "platform": "linux"
    },
  ],
  [
    "linux/auditd-ecs/golibaudit_ubuntu-16.10-linux-4.8.0.coalesced.json",
    "58140",
    {
      "@timestamp": "2017-04-21T05:28:40.441000Z",
      "ts": 1492752520.441,
      "host": {},
      "process": {
        "pid": 1663,
        "name": "sshd",
        "executable": "/usr/sbin/sshd",
        "command_line": "(sshd)",
        "parent": {
          "pid": 1
        }
      },
      "destination": {
        "ip": "72.83.230.100",
        "port": 58140
      },
      "network": {
        "direction": "ingress"
      },
      "event": {
        "action": "accept",
        "module": "ecs",
        "code": "accept",
        "line": 676
      },
      "platform": "linux"
    },
  ],
  [
    "linux/auditd-ecs/golibaudit_ubuntu-16.10-linux-4.8.0.coalesced.json",
    "169.254.169.254",
    {
      "@timestamp": "2017-04-21T05:38:27.096000Z",
      "ts": 1492753107.096,
      "host": {},
      "process": {
        "pid": 1648,
        "name": "google_ip_forwa",
        "executable": "/usr/bin/python3.5",
        "command_line": "(g_daemon)",
        "parent": {
          "pid": 1
        }
      },
      "destination": {
        "ip": "169.254.169.254",
        "port": 80
      },
      "network": {
        "direction": "egress"
      },
      "event": {
        "action": "connect",
        "module": "ecs",
        "code": "connect",
        "line": 831
      },
      "platform": "linux"
    },
  ],
  [
    "linux/auditd-ecs/golibaudit_ubuntu-17.04-linux-4.10.0.coalesced.json",
    "docker",
    {
      "@timestamp": "2018-01-11T22:02:42.888000Z",
      "ts": 1515708162.888,
      "host": {},
      "process": {
        "pid": 5821,
        "name": "docker",
        "executable": "/usr/bin/docker",
        "command_line": "docker inspect 721df12151a7",
        "args": [
          "docker",
          "inspect",
          "721df12151a7"
        ],
        "parent": {
          "pid": 5820
        }
      },
      "event": {
        "action": "exec",
        "module": "ecs",
        "code": "execve",
        "line": 122
      },
      "platform": "linux"
    },
  ],
  [
    "macos/eslogger/mullvad_eslogger_exit-exec-v9_fork-v10.jsonl",
    "\"exit\"",
    {
      "@timestamp": "2025-08-07T15:13:09.811588Z",
      "ts": 1754579589.8115876,
      "host": {},
      "process": {
        "pid": 11221,
        "executable": "/usr/sbin/ipconfig",
        "name": "ipconfig",
        "parent": {
          "pid": 532
        }
      },
      "event": {
        "action": "exit",
        "module": "eslogger",
        "code": "15",
        "line": 1
      },
      "platform": "macos"
    },
  ],
  [
    "macos/eslogger/mullvad_eslogger_exit-exec-v9_fork-v10.jsonl",
    "\"exec\"",
    {
      "@timestamp": "2025-08-07T13:21:35.880815Z",
      "ts": 1754572895.8808148,
      "host": {},
      "process": {
        "pid": 97391,
        "executable": "/bin/connection-checker",
        "name": "connection-checker",
        "command_line": "/bin/connection-checker",
        "args": [
          "/bin/connection-checker"
        ],
        "parent": {
          "pid": 58916
        }
      },
      "event": {
        "action": "exec",
        "module": "eslogger",
        "code": "9",
        "line": 2
      },
      "platform": "macos"
    },
  ],
  [
    "macos/eslogger/mullvad_eslogger_exit-exec-v9_fork-v10.jsonl",
    "\"fork\"",
    {
      "@timestamp": "2025-07-22T15:09:01.084030Z",
      "ts": 1753196941.0840304,
      "host": {},
      "process": {
        "pid": 21497,
        "executable": "/Applications/Mullvad VPN.app/Contents/MacOS/Mullvad VPN",
        "name": "Mullvad VPN",
        "parent": {
          "pid": 19745,
          "executable": "/Applications/Mullvad VPN.app/Contents/MacOS/Mullvad VPN",
          "name": "Mullvad VPN"
        }
      },
      "event": {
        "action": "fork",
        "module": "eslogger",
        "code": "11",
        "line": 3
      },
      "platform": "macos"
    },
  ],
  [
    "esxi/elastic-integrations_vsphere_test-format-common_esxi-lines.log",
    "shell.cmd",
    {
      "@timestamp": "2022-11-04T15:25:46.186000Z",
      "ts": 1667575546.186,
      "host": {
        "name": "ESXI"
      },
      "process": {
        "command_line": "grep -i kali hostd.log | grep reboot",
        "parent": {
          "pid": 1231448,
          "name": "shell"
        }
      },
      "user": {
        "name": "root"
      },
      "event": {
        "action": "exec",
        "module": "esxi",
        "code": "shell.cmd",
        "line": 4
      },
      "platform": "esxi"
    },
  ],
  [
    "esxi/elastic-integrations_vsphere_test-format-common_esxi-lines.log",
    "vpxd",
    {
      "@timestamp": "2022-09-01T04:06:19.084018Z",
      "ts": 1662005179.084018,
      "host": {
        "name": "host123"
      },
      "process": {
        "pid": 24962,
        "name": "vpxd"
      },
      "user": {
        "name": "root"
      },
      "destination": {
        "ip": "127.0.0.1"
      },
      "network": {
        "direction": "ingress"
      },
      "event": {
        "action": "accept",
        "module": "esxi",
        "code": "login",
        "line": 1
      },
      "platform": "esxi"
    },
  ],
  [
    "fixtures:osquery-linux.handmade.log",
    "51514",
    {
      "@timestamp": "2026-12-03T18:00:10Z",
      "ts": 1796320810,
      "host": {
        "name": "jump01"
      },
      "process": {
        "pid": 4242
      },
      "source": {
        "ip": "10.0.0.5",
        "port": 51514
      },
      "destination": {
        "ip": "203.0.113.7",
        "port": 22
      },
      "network": {
        "transport": "tcp"
      },
      "event": {
        "action": "connect",
        "module": "osquery",
        "code": "process_open_sockets/guessed",
        "line": 3
      },
      "platform": "linux"
    },
  ],
  [
    "fixtures:osquery-linux.handmade.log",
    "\"port\":13389",
    {
      "@timestamp": "2026-12-03T18:00:10Z",
      "ts": 1796320810,
      "host": {
        "name": "jump01"
      },
      "process": {
        "pid": 4242
      },
      "source": {
        "ip": "127.0.0.1",
        "port": 13389
      },
      "network": {
        "transport": "tcp"
      },
      "event": {
        "action": "listen",
        "module": "osquery",
        "code": "process_open_sockets",
        "line": 4
      },
      "platform": "linux"
    },
  ],
  [
    "fixtures:osquery-linux.handmade.log",
    "socat",
    {
      "@timestamp": "2026-12-03T18:00:18Z",
      "ts": 1796320818,
      "host": {
        "name": "jump01"
      },
      "process": {
        "pid": 4250,
        "executable": "/usr/bin/socat",
        "name": "socat"
      },
      "destination": {
        "ip": "192.0.2.44",
        "port": 443
      },
      "event": {
        "action": "connect",
        "module": "osquery",
        "code": "socket_events/connect",
        "line": 6
      },
      "platform": "linux"
    },
  ],
  [
    "fixtures:osquery-linux.handmade.log",
    "\"exit\"",
    {
      "@timestamp": "2026-12-03T18:05:10Z",
      "ts": 1796321110,
      "host": {
        "name": "jump01"
      },
      "process": {
        "pid": 4242,
        "executable": "/usr/bin/ssh",
        "name": "ssh",
        "command_line": "ssh -N -L 13389:10.0.5.20:3389 ops@203.0.113.7",
        "parent": {
          "pid": 4100
        }
      },
      "event": {
        "action": "exit",
        "module": "osquery",
        "code": "processes",
        "line": 8
      },
      "platform": "linux"
    },
  ],
  [
    "fixtures:osquery-macos.handmade.log",
    "\"listen\"",
    {
      "@timestamp": "2026-12-03T18:10:00Z",
      "ts": 1796321400,
      "host": {
        "name": "mbp-ana.local"
      },
      "process": {
        "pid": 811,
        "executable": "/usr/bin/ssh",
        "name": "ssh",
        "command_line": "ssh -D 1080 -N ana@198.51.100.9"
      },
      "source": {
        "ip": "127.0.0.1",
        "port": 1080
      },
      "network": {
        "transport": "tcp"
      },
      "event": {
        "action": "listen",
        "module": "osquery",
        "code": "process_open_sockets",
        "line": 1
      },
      "platform": "macos"
    },
  ],
  [
    "fixtures:esxcli-connection-list.handmade.txt",
    "\"socat\"",
    {
      "@timestamp": "2026-12-03T19:34:48.422000Z",
      "ts": 1796326488.422,
      "host": {},
      "process": {
        "pid": 2104490,
        "name": "socat"
      },
      "source": {
        "ip": "10.10.0.21",
        "port": 41220
      },
      "destination": {
        "ip": "203.0.113.80",
        "port": 443
      },
      "network": {
        "transport": "tcp"
      },
      "event": {
        "action": "connect",
        "module": "esxcli",
        "code": "esxcli/guessed",
        "line": 5
      },
      "platform": "esxi"
    },
  ],
];

t.test('pinned mappings, every field', async (t) => {
  for (const [name, needle, expected] of PINNED) {
    const ev = find(name, (e) => JSON.stringify(e).includes(needle));
    if (!ev) {
      t.fail(`${name}: no event with ${needle}`);
      continue;
    }
    if (name.includes('esxcli')) {
      // esxcli output has no time: the reader stamps the moment it read the snapshot.
      const { ts, '@timestamp': iso, ...rest } = ev;
      const { ts: _t, '@timestamp': _i, ...want } = expected;
      t.ok(Math.abs(ts - Date.now() / 1000) < 600 && iso.endsWith('Z'), 'esxcli read time');
      t.same(rest, want, `${name} ${needle}`);
    } else {
      t.same(ev, expected, `${name} ${needle}`);
    }
  }
});
