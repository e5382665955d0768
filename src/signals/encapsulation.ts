// Flows that arrived inside another packet: IP-in-IP, 6in4, GRE, PPTP, VXLAN, GENEVE,
// ERSPAN, GTP-U, Teredo, AYIYA (src/decode/encap.ts and encap-udp.ts decapsulate them). A
// network tunnel carrying hosts' traffic is T1572 at its plainest; data-centre overlays,
// mirroring and a mobile core's GTP-U are the same bytes used on purpose, so the carriers a
// site runs itself go in rules.encapsulation.allowed.

import { TunnelhoundConfig } from '../config/defaults';
import { Detection } from '../detect/detection';
import { Signal, SignalInput } from './signal';

/**
 * Carriers whose only common use is to move a host's traffic past the routing it would get.
 * Teredo and AYIYA are IPv6 transition tunnels a host opens itself, through NAT, to a
 * server outside; GTP-U is not here: it is mobile-core infrastructure, an ordinary overlay.
 */
const HOST_TUNNELS = new Set(['ipip', '6in4', 'pptp', 'teredo', 'ayiya']);

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
