// A real rsyslogd for the syslog sink tests: started as a child in the foreground with its
// own config and work directory in a temp dir (no systemd, no /dev/log, no /var), listening on
// a loopback port, writing each received message's raw text (framing removed) as one line.

import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd']
  .find((p) => fs.existsSync(p));

/** Whether rsyslog's GnuTLS network stream driver (package rsyslog-gnutls) is there. */
export const HAS_GTLS = ['/usr/lib/x86_64-linux-gnu/rsyslog', '/usr/lib/aarch64-linux-gnu/rsyslog',
  '/usr/lib/rsyslog'].some((d) => fs.existsSync(path.join(d, 'lmnsd_gtls.so')));

/** rsyslogd binds within a second; slower than this is a broken start. */
const START_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 5000;
/** Larger than any alert: rsyslog's 8 KiB default would cut long lines. */
const MAX_MESSAGE_SIZE = '64k';

export type RsyslogInput = 'udp' | 'tcp' | 'tls';

/** A loopback port nobody listens on right now (TCP; rsyslog gets it for udp as well). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A self-signed certificate for localhost / 127.0.0.1, used as its own CA. */
export function makeCert(dir: string): { ca: string; cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'ignore', timeout: 30000 });
  return { ca: cert, cert, key };
}

export interface Rsyslog {
  dir: string;
  port: number;
  out: string;
  /** TLS only: the CA file a client must trust. */
  caFile?: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The lines written so far (one per message). */
  lines(): string[];
  /** Waits until at least `n` lines are written, or `ms` passed; returns the lines. */
  waitForLines(n: number, ms: number): Promise<string[]>;
}

function config(kind: RsyslogInput, dir: string, port: number, out: string,
  tlsFiles?: { ca: string; cert: string; key: string }): string {
  const lines = [
    `global(workDirectory="${dir}" maxMessageSize="${MAX_MESSAGE_SIZE}")`,
    'template(name="raw" type="string" string="%rawmsg%\\n")',
    'ruleset(name="th") {',
    `  action(type="omfile" file="${out}" template="raw")`,
    '}',
  ];
  if (kind === 'udp') {
    lines.push('module(load="imudp")',
      `input(type="imudp" address="127.0.0.1" port="${port}" ruleset="th")`);
  } else if (kind === 'tcp') {
    lines.push('module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="th")`);
  } else {
    lines.push('global(DefaultNetstreamDriver="gtls"' +
      ` DefaultNetstreamDriverCAFile="${tlsFiles!.ca}"` +
      ` DefaultNetstreamDriverCertFile="${tlsFiles!.cert}"` +
      ` DefaultNetstreamDriverKeyFile="${tlsFiles!.key}")`,
    'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"' +
      ' StreamDriver.AuthMode="anon")',
    `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="th")`);
  }
  return lines.join('\n') + '\n';
}

/** Prepares (does not start) an rsyslogd on a free port; `port` picks one up front. */
export async function createRsyslog(kind: RsyslogInput, port?: number): Promise<Rsyslog> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-rsyslog-'));
  const p = port ?? await freePort();
  const out = path.join(dir, 'out.log');
  const tlsFiles = kind === 'tls' ? makeCert(dir) : undefined;
  const conf = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(conf, config(kind, dir, p, out, tlsFiles));
  let child: ChildProcess | null = null;
  let stderr = '';

  const lines = () => {
    if (!fs.existsSync(out)) return [];
    return fs.readFileSync(out, 'utf8').split('\n').filter((l) => l !== '');
  };

  const listening = (deadline: number): Promise<void> => new Promise((resolve, reject) => {
    const probe = () => {
      if (child === null || child.exitCode !== null) {
        reject(new Error(`rsyslogd exited: ${stderr}`));
        return;
      }
      if (Date.now() > deadline) {
        reject(new Error(`rsyslogd not listening on ${p} in ${START_TIMEOUT_MS} ms: ${stderr}`));
        return;
      }
      // UDP cannot be probed by connecting; rsyslogd says nothing when ready, so poll ss.
      const ss = execFileSync('ss', ['-Hlnu' + (kind === 'udp' ? '' : 't')], {
        encoding: 'utf8', timeout: 5000 });
      if (ss.includes(`127.0.0.1:${p} `)) resolve();
      else setTimeout(probe, 50);
    };
    probe();
  });

  return {
    dir, port: p, out, caFile: tlsFiles?.ca,
    async start() {
      const pid = path.join(dir, 'rsyslogd.pid');
      child = spawn(RSYSLOGD!, ['-n', '-C', '-f', conf, '-i', pid],
        { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
      await listening(Date.now() + START_TIMEOUT_MS);
    },
    async stop() {
      const c = child;
      child = null;
      if (c !== null && c.exitCode === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => { c.kill('SIGKILL'); resolve(); }, STOP_TIMEOUT_MS);
          c.once('exit', () => { clearTimeout(timer); resolve(); });
          c.kill('SIGTERM');
        });
      }
    },
    lines,
    async waitForLines(n: number, ms: number) {
      const deadline = Date.now() + ms;
      while (lines().length < n && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      return lines();
    },
  };
}

/** Stops rsyslogd and removes its temp dir. */
export async function destroyRsyslog(r: Rsyslog): Promise<void> {
  await r.stop();
  fs.rmSync(r.dir, { recursive: true, force: true });
}
