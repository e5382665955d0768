// Command-line options of the endpoint feed and the feed they build:
//   replay  --endpoint FILE (repeatable), read in step with the packets
//   live    --endpoint-follow FILE (tail -F), --endpoint-listen HOST:PORT (NDJSON or any line
//           format; TLS with --endpoint-tls-cert/--endpoint-tls-key, client certificates
//           required with --endpoint-tls-ca)
// --endpoint-format names the reader instead of detecting it from the first lines.

import fs from 'node:fs';
import { Command, Option } from 'commander';
import { TunnelhoundConfig } from '../config/defaults';
// Types only at load time: the readers and sources are required when a run asks for
// endpoint data, so a plain replay does not pay for parsing them (about 9 ms of start-up).
import type { EndpointFeed } from '../endpoint/feed';
import { UsageError } from './errors';
import { Logger } from './log';

export interface EndpointCliOptions {
  endpoint?: string[];
  endpointFollow?: string[];
  endpointListen?: string;
  endpointTlsCert?: string;
  endpointTlsKey?: string;
  endpointTlsCa?: string;
  endpointFormat?: string;
}

const collect = (v: string, acc: string[] | undefined) => [...(acc ?? []), v];

export function addEndpointOptions(cmd: Command, mode: 'replay' | 'live'): Command {
  cmd.addOption(new Option('--endpoint-format <name>', 'endpoint log format (default: ' +
    'detected from the first lines)'));
  if (mode === 'replay') {
    return cmd.option('--endpoint <file>', 'endpoint events recorded with the capture ' +
      '(auditd audit.log, Sysmon, ECS NDJSON...), joined with its flows; repeatable', collect);
  }
  return cmd
    .option('--endpoint-follow <file>', 'follow an endpoint log as it grows (survives ' +
      'rotation and truncation); repeatable', collect)
    .option('--endpoint-listen <host:port>', 'accept endpoint events over TCP, one per line')
    .option('--endpoint-tls-cert <file>', 'TLS certificate of the endpoint listener')
    .option('--endpoint-tls-key <file>', 'TLS key of the endpoint listener')
    .option('--endpoint-tls-ca <file>', 'CA the listener requires client certificates from');
}

function readable(opt: string, file: string): void {
  let why: string | null = null;
  try {
    fs.accessSync(file, fs.constants.R_OK);
    if (fs.statSync(file).isDirectory()) why = 'is a directory';
  } catch (err) {
    why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file'
      : (err as NodeJS.ErrnoException).code ?? 'not readable';
  }
  if (why !== null) throw new UsageError(`${opt} ${file}: cannot read the file (${why})`);
}

function hostPort(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) {
    throw new UsageError(`--endpoint-listen ${v}: expected HOST:PORT (e.g. 0.0.0.0:6514, ` +
      '[::]:6514), port 0-65535');
  }
  return { host: m[1] ?? m[2], port };
}

/** The feed for these options, or undefined when none asks for endpoint data. */
export async function buildEndpointFeed(o: EndpointCliOptions, config: TunnelhoundConfig,
  log: Logger): Promise<EndpointFeed | undefined> {
  const files = o.endpoint ?? [];
  const follow = o.endpointFollow ?? [];
  if (files.length === 0 && follow.length === 0 && o.endpointListen === undefined) {
    return undefined;
  }
  const { EndpointFeed } = require('../endpoint/feed') as typeof import('../endpoint/feed');
  const { createReader } = require('../endpoint/readers') as typeof import('../endpoint/readers');
  const { EndpointFileSource } =
    require('../endpoint/source-file') as typeof import('../endpoint/source-file');
  const { EndpointFollowSource } =
    require('../endpoint/source-follow') as typeof import('../endpoint/source-follow');
  const { EndpointListenSource } =
    require('../endpoint/source-listen') as typeof import('../endpoint/source-listen');
  const format = o.endpointFormat;
  if (format !== undefined) {
    try {
      createReader(format);
    } catch (err) {
      throw new UsageError(`--endpoint-format: ${(err as Error).message}`);
    }
  }
  const tlsGiven = [o.endpointTlsCert, o.endpointTlsKey, o.endpointTlsCa]
    .some((v) => v !== undefined);
  if (tlsGiven && (o.endpointTlsCert === undefined || o.endpointTlsKey === undefined)) {
    throw new UsageError('--endpoint-tls-cert and --endpoint-tls-key go together ' +
      '(--endpoint-tls-ca needs both)');
  }
  for (const f of files) readable('--endpoint', f);
  for (const [k, v] of [['--endpoint-tls-cert', o.endpointTlsCert],
    ['--endpoint-tls-key', o.endpointTlsKey], ['--endpoint-tls-ca', o.endpointTlsCa]]) {
    if (v !== undefined) readable(k as string, v);
  }
  const listen = o.endpointListen === undefined ? undefined : hostPort(o.endpointListen);
  const feed = new EndpointFeed(config);
  for (const f of files) feed.addSource(new EndpointFileSource(f, feed.join, log, format));
  for (const f of follow) {
    feed.addSource(new EndpointFollowSource(f, feed.join, log, { format }));
  }
  if (listen !== undefined) {
    try {
      feed.addSource(await EndpointListenSource.start(feed.join, log, {
        ...listen, format,
        tls: o.endpointTlsCert === undefined ? undefined
          : { cert: o.endpointTlsCert, key: o.endpointTlsKey!, ca: o.endpointTlsCa },
      }));
    } catch (err) {
      await feed.close();
      throw new UsageError(`--endpoint-listen ${o.endpointListen}: ${(err as Error).message}`);
    }
  }
  return feed;
}
