// A minimal Sysmon 1/3 extraction from evtx_dump XML, for the join tests only: it lets the
// join's Windows path be tested on the public plink sample without depending on the full
// Sysmon reader (src/endpoint/readers, issue 5's reader work), which owns the real parsing.
// It reads only the fields the join uses and trusts the sample's shape.

import { EndpointEvent } from '../../src/endpoint/event';

function data(ev: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of ev.matchAll(/<Data Name="(\w+)">([^<]*)<\/Data>/g)) out[m[1]] = m[2];
  return out;
}

function user(u: string | undefined): EndpointEvent['user'] {
  if (u === undefined) return undefined;
  const i = u.indexOf('\\');
  return i < 0 ? { name: u } : { domain: u.slice(0, i), name: u.slice(i + 1) };
}

export function sysmonEvents(xml: string): EndpointEvent[] {
  const out: EndpointEvent[] = [];
  for (const m of xml.matchAll(/<Event [\s\S]*?<\/Event>/g)) {
    const ev = m[0];
    const id = /<EventID[^>]*>(\d+)</.exec(ev)?.[1];
    if (id !== '1' && id !== '3') continue;
    const d = data(ev);
    const iso = `${d.UtcTime.replace(' ', 'T')}Z`;
    const host = /<Computer>([^<]*)</.exec(ev)?.[1];
    const image = d.Image;
    const e: EndpointEvent = {
      '@timestamp': iso, ts: Date.parse(iso) / 1000,
      host: { name: host }, platform: 'windows', user: user(d.User),
      process: { pid: Number(d.ProcessId), executable: image,
        name: image.slice(image.lastIndexOf('\\') + 1), entity_id: d.ProcessGuid },
      event: { action: id === '1' ? 'exec' : 'connect', module: 'sysmon', code: id },
    };
    if (id === '1') {
      e.process.command_line = d.CommandLine;
    } else {
      // Sysmon 3 lists the local end first whoever initiated.
      e.event.action = d.Initiated === 'true' || d.Initiated === 'True' ? 'connect' : 'accept';
      e.source = { ip: d.SourceIp, port: Number(d.SourcePort) };
      e.destination = { ip: d.DestinationIp, port: Number(d.DestinationPort) };
      e.network = { transport: d.Protocol === 'udp' ? 'udp' : 'tcp' };
    }
    out.push(e);
  }
  return out;
}
