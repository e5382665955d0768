// Flows that arrived inside another packet: IP-in-IP, 6in4, GRE, PPTP, VXLAN, GENEVE,
// ERSPAN (src/decode/encap.ts decapsulates them). A network tunnel carrying hosts' traffic is
// T1572 at its plainest; data-centre overlays and mirroring are the same bytes used on
// purpose, so the carriers a site runs itself go in rules.encapsulation.allowed.

import { TunnelhoundConfig } from '../config/defaults';
import { Detection } from '../detect/detection';
import { Signal, SignalInput } from './signal';

/** Carriers whose only common use is to move a host's traffic past the routing it would get. */
const HOST_TUNNELS = new Set(['ipip', '6in4', 'pptp']);

export function createEncapsulationSignal(cfg: TunnelhoundConfig): Signal {
  const rule = cfg.rules.encapsulation;
  const allowed = new Set(rule.allowed.map((a) => a.toLowerCase()));
  return {
    name: 'encapsulated_flow',
    judge({ record: r }: SignalInput): Detection | null {
      const carrier = r.encapsulation;
      if (!rule.enabled || carrier === undefined || allowed.has(carrier)) return null;
      const hostTunnel = HOST_TUNNELS.has(carrier);
      return {
        analytic: 'AN1484',
        detection: 'encapsulated_flow',
        name: `Flow carried inside ${carrier}`,
        description: `${r.clientIp}:${r.clientPort} -> ${r.serverIp}:${r.serverPort} was seen ` +
          `only inside a ${carrier} tunnel` + (hostTunnel ? ', a carrier hosts use to route ' +
          'around the network' : ', an overlay this site has not listed as its own'),
        severity: hostTunnel ? 'medium' : 'low',
        score: hostTunnel ? 65 : 50,
        evidence: [{
          signal: 'encapsulation',
          value: carrier,
          threshold: rule.allowed.length > 0 ? `allowed: ${rule.allowed.join(', ')}`
            : 'no carrier allowed',
          config_key: 'rules.encapsulation.allowed',
          detail: `inner flow decapsulated from ${carrier}`,
        }],
      };
    },
  };
}
