// ArcSight Common Event Format (CEF:0) lines built from ECS documents, for SIEMs that parse
// CEF out of syslog. Escaping follows "Implementing ArcSight CEF" (Micro Focus, rev. 25),
// sections "Character Encoding" and "Extension Dictionary".

import type { EcsDocument, Evidence } from '../ecs-schema';

export const CEF_VENDOR = 'tunnelhound';
export const CEF_PRODUCT = 'tunnelhound';

/**
 * ECS `event.severity` to CEF severity 0-10. The CEF guide reads 0-3 low, 4-6 medium, 7-8
 * high, 9-10 very high; we use the middle of each band. Flow records are 1 (informational).
 */
export const ECS_TO_CEF_SEVERITY: Readonly<Record<number, number>> = { 21: 3, 47: 5, 73: 8 };
export const CEF_SEVERITY_ALERT_DEFAULT = 5;
export const CEF_SEVERITY_FLOW = 1;

/**
 * Longest cs1 (evidence summary) we send: the CEF dictionary gives the customString fields
 * 4023 characters.
 */
export const MAX_CEF_CS = 4023;

/** Header field: `\` and `|` are escaped; a newline cannot appear in the header at all. */
export function cefHeaderEscape(s: string): string {
  return s.replace(/[\\|]/g, (c) => '\\' + c).replace(/\r\n|[\r\n]/g, ' ');
}

/** Extension value: `\` and `=` are escaped, CR and LF written as `\r` and `\n`. */
export function cefExtEscape(s: string): string {
  return s.replace(/[\\=\r\n]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return '\\' + c;
  });
}

/** One line per evidence: `signal=value (threshold t): detail`, joined by `; `. */
export function evidenceSummary(ev: readonly Evidence[] | undefined): string {
  if (ev === undefined || ev.length === 0) return '';
  return ev.map((e) => {
    const th = e.threshold === null ? '' : ` (threshold ${e.threshold})`;
    return `${e.signal}=${e.value}${th}: ${e.detail}`;
  }).join('; ').slice(0, MAX_CEF_CS);
}

/** ECS endpoint addresses to CEF keys: IPv4 in src/dst, IPv6 in the c6a2/c6a3 custom fields. */
function addressPairs(key4: string, key6: string, ip: string): Array<[string, string]> {
  if (!ip.includes(':')) return [[key4, ip]];
  const label = key6 === 'c6a2' ? 'Source IPv6 Address' : 'Destination IPv6 Address';
  return [[key6, ip], [`${key6}Label`, label]];
}

/**
 * `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`. SignatureID is
 * `<rule.id>/<detection>` for alerts and `flow` for flow records.
 */
export function cefLine(doc: EcsDocument, productVersion: string): string {
  const isAlert = doc.event.kind === 'alert';
  const sigId = isAlert
    ? `${doc.rule?.id ?? 'unknown'}/${doc.tunnelhound.detection ?? 'unknown'}` : 'flow';
  const name = isAlert ? (doc.rule?.name ?? 'tunnelhound alert') : 'flow record';
  const severity = isAlert
    ? (ECS_TO_CEF_SEVERITY[doc.event.severity ?? -1] ?? CEF_SEVERITY_ALERT_DEFAULT)
    : CEF_SEVERITY_FLOW;
  const header = ['CEF:0', CEF_VENDOR, CEF_PRODUCT, productVersion, sigId, name]
    .map((f, i) => (i === 0 ? f : cefHeaderEscape(f))).join('|');

  const rt = Date.parse(doc['@timestamp']);
  const ext: Array<[string, string]> = [
    ...addressPairs('src', 'c6a2', doc.source.ip),
    ['spt', String(doc.source.port)],
    ...addressPairs('dst', 'c6a3', doc.destination.ip),
    ['dpt', String(doc.destination.port)],
    ['proto', doc.network.transport],
    ['app', doc.network.protocol],
  ];
  if (!Number.isNaN(rt)) ext.push(['rt', String(rt)]);
  ext.push(['externalId', doc.event.id]);
  const summary = evidenceSummary(doc.tunnelhound.evidence);
  if (summary !== '') ext.push(['cs1Label', 'evidence'], ['cs1', summary]);
  if (doc.rule?.description !== undefined) ext.push(['msg', doc.rule.description]);
  // No `act`: the sensor is passive, it never blocks or resets what it reports.
  const extension = ext.map(([k, v]) => `${k}=${cefExtEscape(v)}`).join(' ');
  return `${header}|${severity}|${extension}`;
}
