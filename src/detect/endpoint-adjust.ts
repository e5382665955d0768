// What the endpoint feed changes in a detection once the process behind the flow is known:
//   AllowedTools     suppress: no alert; lower: severity one step down, score halved
//   ForwardingFlags  severity one step up, score raised, evidence `forwarding_flags`
//   platform         the analytic of the owner's platform (windows AN1483, linux AN1484,
//                    macos AN1485, esxi AN1486), the seed's split of DET0538 by log source
// The rule's own evidence stays as it was: the network facts did not change.

import { Severity, TunnelhoundConfig } from '../config/defaults';
import { EndpointMatch, EndpointPlatform } from '../endpoint/event';
import { programName } from '../endpoint/policy';
import { AnalyticId, Detection } from './detection';

const STEPS: Severity[] = ['low', 'medium', 'high'];
/** Score added when the owner's command line asks for forwarding. */
export const FORWARDING_SCORE_BONUS = 25;

const PLATFORM_ANALYTIC: Partial<Record<EndpointPlatform, AnalyticId>> = {
  windows: 'AN1483', linux: 'AN1484', macos: 'AN1485', esxi: 'AN1486',
};

function step(s: Severity, by: number): Severity {
  return STEPS[Math.min(STEPS.length - 1, Math.max(0, STEPS.indexOf(s) + by))];
}

/** The detection as the endpoint facts leave it, or null when AllowedTools suppresses it. */
export function adjustForEndpoint(cfg: TunnelhoundConfig, d: Detection, m: EndpointMatch):
  Detection | null {
  if (m.allowed?.action === 'suppress') return null;
  const out: Detection = { ...d, evidence: [...d.evidence] };
  const analytic = PLATFORM_ANALYTIC[m.owner.platform];
  // An ESXi management flow stays with the ESXi analytic whoever owned it.
  if (analytic !== undefined && d.analytic !== 'AN1486') out.analytic = analytic;
  if (m.forwardingFlags.length > 0) {
    const prog = programName(m.owner.process);
    const configured = Object.entries(cfg.ForwardingFlags)
      .find(([k]) => k.toLowerCase().replace(/\.exe$/, '') === prog)?.[1] ?? [];
    out.severity = step(out.severity, 1);
    out.score = Math.min(100, out.score + FORWARDING_SCORE_BONUS);
    out.evidence.push({
      signal: 'forwarding_flags',
      value: m.forwardingFlags.join('; '),
      threshold: configured.join(', '),
      config_key: 'ForwardingFlags',
      detail: `${prog} (pid ${m.owner.process.pid ?? '?'}) was started with port-forwarding ` +
        `options (${m.strength} join with the flow)`,
    });
  }
  if (m.allowed?.action === 'lower') {
    out.severity = step(out.severity, -1);
    out.score = Math.round(out.score / 2);
    out.evidence.push({
      signal: 'allowed_tool',
      value: programName(m.owner.process),
      threshold: `AllowedTools[${m.allowed.entry}]`,
      config_key: 'AllowedTools',
      detail: 'the owning process is on the allow-list with action lower: severity one step ' +
        'down, score halved',
    });
  }
  return out;
}
