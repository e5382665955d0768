// The flat per-flow object of `tunnelhound fingerprints`: one line per flow, keys an analyst
// can grep and pivot on across tools.

import { FlowRecord } from '../flow/flow-record';
import { flowProtocol, protoName, transportName } from './ecs';

export interface FingerprintLine {
  client_ip: string;
  client_port: number;
  server_ip: string;
  server_port: number;
  transport: string;
  protocol: string;
  ja4?: string;
  ja4_r?: string;
  ja3?: string;
  ja3s?: string;
  hassh?: string;
  hassh_server?: string;
  ssh_client_banner?: string;
  ssh_server_banner?: string;
  sni?: string;
  /** ALPN protocols the client offered, in its order. */
  alpn?: string[];
}

export function fingerprintLine(r: FlowRecord): FingerprintLine {
  const t = r.fingerprints?.tls;
  const s = r.fingerprints?.ssh;
  const line: FingerprintLine = {
    client_ip: r.clientIp,
    client_port: r.clientPort,
    server_ip: r.serverIp,
    server_port: r.serverPort,
    transport: transportName(r.ipProto),
    protocol: protoName(flowProtocol(r)),
    ja4: t?.ja4,
    ja4_r: t?.ja4_r,
    ja3: t?.ja3,
    ja3s: t?.ja3s,
    hassh: s?.hassh,
    hassh_server: s?.hassh_server,
    ssh_client_banner: s?.client_banner,
    ssh_server_banner: s?.server_banner,
    sni: t?.sni,
    alpn: t?.alpn && t.alpn.length > 0 ? t.alpn : undefined,
  };
  for (const k of Object.keys(line) as Array<keyof FingerprintLine>) {
    if (line[k] === undefined) delete line[k];
  }
  return line;
}
