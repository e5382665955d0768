// Flows from or to an ESXi management interface that its service profile does not allow
// (AN1486): the seed's "network services inside ESXi creating flows inconsistent with
// management plane traffic". assets.esxiManagement gives each management address a profile
// name; ESXiServiceProfiles says which services others may open on it (inbound) and which
// it may open itself (outbound), by transport, port and optionally peer CIDRs. The side that
// opened the flow is the flow record's client.
//
// gap: ICMP and other non-TCP/UDP flows are not judged (profiles name ports only).

import { EsxiService, TunnelhoundConfig } from '../config/defaults';
import { CidrSet } from '../config/cidr';
import { ConfigError } from '../config/load';
import { Detection } from '../detect/detection';
import { FlowRecord } from '../flow/flow-record';
import { flowProtocol, protoName, transportName } from '../output/ecs';
import { Signal, SignalFactory } from './signal';

interface Host {
  address: CidrSet;
  profileName: string;
  inbound: { service: EsxiService; peers: CidrSet | null }[];
  outbound: { service: EsxiService; peers: CidrSet | null }[];
}

function allowed(list: Host['inbound'], transport: string, port: number, peer: string): boolean {
  return list.some(({ service, peers }) => service.transport === transport &&
    service.port === port && (peers === null || peers.contains(peer)));
}

function listText(list: Host['inbound']): string {
  return list.length === 0 ? 'nothing' : list.map(({ service: s }) =>
    `${s.transport}/${s.port}${s.peers ? ` from ${s.peers.join('|')}` : ''}`).join(', ');
}

export const esxiProfileSignal: SignalFactory = (cfg: TunnelhoundConfig): Signal => {
  const hosts: Host[] = cfg.assets.esxiManagement.map((a, i) => {
    const p = cfg.ESXiServiceProfiles[a.profile];
    if (p === undefined) {
      // The schema's cross-check rejects this at load; an in-code config can still reach it.
      throw new ConfigError([`config key assets.esxiManagement.${i}.profile: value ` +
        `${JSON.stringify(a.profile)} must name a profile in ESXiServiceProfiles ` +
        `(${Object.keys(cfg.ESXiServiceProfiles).join(', ') || 'none defined'})`]);
    }
    const wrap = (s: EsxiService) => ({ service: s, peers: s.peers ? new CidrSet(s.peers) : null });
    return { address: new CidrSet([a.address]), profileName: a.profile,
      inbound: p.inbound.map(wrap), outbound: p.outbound.map(wrap) };
  });

  function check(r: FlowRecord, host: Host, asClient: boolean): Detection | null {
    const transport = transportName(r.ipProto);
    const list = asClient ? host.outbound : host.inbound;
    const peer = asClient ? r.serverIp : r.clientIp;
    if (allowed(list, transport, r.serverPort, peer)) return null;
    const way = asClient ? 'outbound' : 'inbound';
    const me = asClient ? r.clientIp : r.serverIp;
    const proto = protoName(flowProtocol(r));
    const service = `${transport}/${r.serverPort}`;
    return {
      analytic: 'AN1486',
      detection: 'esxi_profile_violation',
      name: `ESXi management ${me}: ${way} ${service} outside profile ${host.profileName}`,
      description: `${asClient ? `${me} opened` : `${peer} opened to`} ${service} ` +
        `(${proto}) ${asClient ? `to ${peer}` : `on ${me}`}; the ${host.profileName} profile ` +
        `allows ${way} ${listText(list)}`,
      severity: asClient ? 'high' : 'medium',
      score: asClient ? 80 : 60,
      evidence: [{
        signal: 'esxi_service', value: `${way} ${service} (${proto})`,
        threshold: `allowed ${way}: ${listText(list)}`,
        config_key: `ESXiServiceProfiles.${host.profileName}.${way}`,
        detail: `management address ${me} (assets.esxiManagement), peer ${peer}`,
      }],
    };
  }

  return {
    name: 'esxi_profile',
    judge({ record: r }) {
      if (!cfg.rules.esxiProfile.enabled || hosts.length === 0) return null;
      if (r.ipProto !== 6 && r.ipProto !== 17) return null;
      for (const h of hosts) {
        if (h.address.contains(r.clientIp)) {
          const d = check(r, h, true);
          if (d) return d;
        }
        if (h.address.contains(r.serverIp)) {
          const d = check(r, h, false);
          if (d) return d;
        }
      }
      return null;
    },
  };
};
