// Command-line options of the SIEM sinks and the sinks they build. Secrets (HTTP auth) come
// from an environment variable or a file, never from the command line, where `ps` shows them.

import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createHttpSink } from '../output/sinks/http-sink';
import { createSyslogSink } from '../output/sinks/syslog-sink';
import { UsageError } from './errors';
import { SinkRoute } from './sensor';

type Send = 'alerts' | 'flows' | 'both';

export interface SinkCliOptions {
  syslog?: string[];
  syslogFormat: 'json' | 'cef';
  syslogCa?: string;
  syslogCert?: string;
  syslogKey?: string;
  syslogSend: Send;
  http?: string[];
  httpFormat: 'elasticsearch' | 'splunk';
  httpIndex?: string;
  httpAuthEnv?: string;
  httpAuthFile?: string;
  httpSend: Send;
  spool?: string;
  deliveryTimeout: number;
}

const collect = (v: string, acc: string[] | undefined) => [...(acc ?? []), v];

export function addSinkOptions(cmd: Command): Command {
  const send = (flag: string) => new Option(`${flag} <what>`, 'what this sink receives')
    .choices(['alerts', 'flows', 'both']).default('alerts');
  return cmd
    .option('--syslog <url>', 'syslog receiver: udp://, tcp:// or tls://host:port ' +
      '(RFC 5424; octet counting on TCP/TLS); repeatable', collect)
    .addOption(new Option('--syslog-format <fmt>', 'syslog payload')
      .choices(['json', 'cef']).default('json'))
    .option('--syslog-ca <file>', 'CA certificate(s) to verify a tls:// receiver')
    .option('--syslog-cert <file>', 'client certificate for tls://')
    .option('--syslog-key <file>', 'client key for tls://')
    .addOption(send('--syslog-send'))
    .option('--http <url>', 'HTTP bulk receiver (Elasticsearch/OpenSearch or Splunk HEC ' +
      'base URL); repeatable', collect)
    .addOption(new Option('--http-format <fmt>', 'bulk body form')
      .choices(['elasticsearch', 'splunk']).default('elasticsearch'))
    .option('--http-index <name>', 'Elasticsearch index (default tunnelhound)')
    .option('--http-auth-env <var>', 'environment variable holding the Authorization header ' +
      'value (e.g. "ApiKey ..." or "Splunk <token>")')
    .option('--http-auth-file <file>', 'file holding the Authorization header value')
    .addOption(send('--http-send'))
    .option('--spool <dir>', 'spool undeliverable documents here (bounded; the next run ' +
      'delivers them)')
    .addOption(new Option('--delivery-timeout <seconds>', 'wait this long for receivers at exit')
      .argParser((v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0 || n > 3600) {
          throw new InvalidArgumentError('--delivery-timeout must be 0 to 3600 seconds');
        }
        return n;
      }).default(10));
}

function authHeader(o: SinkCliOptions): string | undefined {
  if (o.httpAuthEnv !== undefined) {
    const v = process.env[o.httpAuthEnv];
    if (v === undefined || v === '') {
      throw new UsageError(`--http-auth-env ${o.httpAuthEnv}: the variable is not set`);
    }
    return v;
  }
  if (o.httpAuthFile !== undefined) {
    try {
      return fs.readFileSync(o.httpAuthFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--http-auth-file ${o.httpAuthFile}: ${(err as Error).message}`);
    }
  }
  return undefined;
}

function route(send: Send) {
  return { alerts: send !== 'flows', flows: send !== 'alerts' };
}

/**
 * The spool must take a file now, not when the receiver first fails: a spool that cannot be
 * written turns "spooled" into "dropped" exactly when it matters.
 */
export function checkSpool(dir: string): void {
  const probe = path.join(dir, `.tunnelhound-probe-${process.pid}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
    fs.writeFileSync(probe, '');
    fs.unlinkSync(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`--spool ${dir}: not a writable directory (${e.code ?? e.message})`);
  }
}

/**
 * A sink's name is also its spool's name, so it is derived from the receiver, not from the
 * option's position: reordering --http flags must not send one receiver's spooled alerts to
 * another.
 */
function sinkName(kind: string, url: string, taken: Set<string>): string {
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    host = url; // the sink itself rejects the URL with a precise message
  }
  const base = `${kind}-${host.replace(/:(\d+)$/, '-$1').replace(/[^A-Za-z0-9.-]+/g, '_')}`;
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

export function buildSinks(o: SinkCliOptions): SinkRoute[] {
  const taken = new Set<string>();
  const routes: SinkRoute[] = [];
  if (o.spool !== undefined && (o.syslog !== undefined || o.http !== undefined)) {
    checkSpool(o.spool);
  }
  const auth = o.http !== undefined ? authHeader(o) : undefined;
  (o.syslog ?? []).forEach((url) => {
    const sink = createSyslogSink({
      name: sinkName('syslog', url, taken), url, format: o.syslogFormat, caFile: o.syslogCa,
      certFile: o.syslogCert, keyFile: o.syslogKey, spoolDir: o.spool,
    });
    routes.push({ sink, ...route(o.syslogSend) });
  });
  (o.http ?? []).forEach((url) => {
    const sink = createHttpSink({
      name: sinkName('http', url, taken), url, format: o.httpFormat, index: o.httpIndex,
      authHeader: auth, gzip: true, spoolDir: o.spool,
    });
    routes.push({ sink, ...route(o.httpSend) });
  });
  return routes;
}
