// The registry of signals the analytics run, in the order their detections are listed.
// A new signal module adds its factory here (one line).

import { TunnelhoundConfig } from '../config/defaults';
import { RULES } from '../detect/rules';
import { icmpTunnelSignal } from './icmp-tunnel';
import { relaySignal } from './relay';
import { dnsTunnelSignal } from './dns-tunnel';
import { dohSignal } from './doh';
import { esxiProfileSignal } from './esxi-profile';
import { Signal, SignalFactory } from './signal';
import { createProxyTunnelSignal } from './proxy-tunnel';
import { createTlsNoSniSignal } from './tls-no-sni';
import { createEncapsulationSignal } from './encapsulation';
import { createVpnSignal } from './vpn';
import { sshSessionShapeSignal } from './ssh-session-shape';
import { volumeOutlierSignal } from './volume-outlier';

/** The first detections (src/detect/rules.ts) are pure functions of one record. */
const recordRules: SignalFactory[] = RULES.map((rule) => (cfg: TunnelhoundConfig) => ({
  name: rule.name,
  judge: ({ record }) => rule(cfg, record),
}));

export const SIGNAL_FACTORIES: SignalFactory[] = [
  ...recordRules,
  createProxyTunnelSignal,
  createTlsNoSniSignal,
  createEncapsulationSignal,
  createVpnSignal,
  sshSessionShapeSignal,
  icmpTunnelSignal,
  relaySignal,
  volumeOutlierSignal,
  dnsTunnelSignal,
  dohSignal,
  esxiProfileSignal,
];

export function createSignals(cfg: TunnelhoundConfig): Signal[] {
  return SIGNAL_FACTORIES.map((f) => f(cfg));
}
