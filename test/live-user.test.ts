// `live --user`: what the sensor writes after the switch (SIGHUP reopen, rotation, the spool)
// is written as that user, so its outputs must be created as that user and checked as that
// user at start; and an output that cannot be opened must end the run, not leave it hanging.

import t, { Test } from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asUser, resolveCredentials } from '../src/cli/privileges';
import { BIN, runCli, waitForStderr } from './helpers/cli';

const isRoot = process.getuid?.() === 0;

function tmpDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-user-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('asUser creates files as the user and takes root back', { skip: !isRoot && 'needs root' },
  async (t) => {
    const nobody = resolveCredentials('nobody');
    const dir = tmpDir(t);
    fs.chownSync(dir, nobody.uid, nobody.gid);
    const file = path.join(dir, 'a.ndjson');
    fs.closeSync(asUser(nobody, () => fs.openSync(file, 'a')));
    t.equal(fs.statSync(file).uid, nobody.uid, 'owned by the user');
    t.equal(process.geteuid!(), 0, 'root again');
    t.equal(process.getegid!(), 0, 'root group again');
    const rootFile = path.join(dir, 'root.ndjson');
    fs.writeFileSync(rootFile, '', { mode: 0o644 });
    t.throws(() => asUser(nobody, () => fs.openSync(rootFile, 'a')), { code: 'EACCES' },
      'a file the user cannot write fails inside');
    t.equal(process.geteuid!(), 0, 'root again after a failure');
  });

t.test('an unwritable --alerts with an endpoint listener exits instead of hanging',
  { skip: !isRoot && 'needs root' }, async (t) => {
    const began = Date.now();
    const r = await runCli(['live', '--interface', 'lo', '--workers', '0', '--alerts',
      '/nonexistent-dir/alerts.ndjson', '--endpoint-listen', '127.0.0.1:0'], 20_000);
    t.ok(Date.now() - began < 15_000, 'ended on its own, not by the timeout');
    t.equal(r.code, 1, `exit 1 (stderr: ${r.stderr})`);
    t.match(r.stderr, /cannot write alerts to \/nonexistent-dir\/alerts\.ndjson/);
  });

t.test('--user: outputs belong to the user, SIGHUP reopens them, SIGTERM exits 0',
  { skip: !isRoot && 'needs root' }, async (t) => {
    const nobody = resolveCredentials('nobody');
    const dir = tmpDir(t);
    fs.chownSync(dir, nobody.uid, nobody.gid);
    const alerts = path.join(dir, 'alerts.ndjson');
    const sensor = spawn(process.execPath, [BIN, 'live', '--interface', 'lo', '--workers', '0',
      '--alerts', alerts, '--log-level', 'info', '--user', 'nobody'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    t.teardown(() => sensor.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => sensor.on('exit', resolve));
    await waitForStderr(sensor, /capture started/, 30_000);
    t.equal(fs.statSync(alerts).uid, nobody.uid, 'the alerts file was created as nobody');
    const hup = async () => {
      const reopened = waitForStderr(sensor, /reopening output files/, 10_000);
      sensor.kill('SIGHUP');
      await reopened;
      await new Promise((r) => setTimeout(r, 300));
    };
    // `systemctl reload` with the file where it is: reopened as nobody, it must be nobody's.
    await hup();
    // logrotate moves the file away; SIGHUP makes the sensor create it again as nobody.
    fs.renameSync(alerts, `${alerts}.1`);
    await hup();
    t.ok(fs.existsSync(alerts), 'reopened by name');
    sensor.kill('SIGTERM');
    t.equal(await exited, 0, 'still running after SIGHUP, exit 0 on SIGTERM');
  });

t.test('--user: a file or spool the user cannot write fails at start, naming the user',
  { skip: !isRoot && 'needs root' }, async (t) => {
    const dir = tmpDir(t);
    fs.chmodSync(dir, 0o755);
    const alerts = path.join(dir, 'alerts.ndjson');
    fs.writeFileSync(alerts, '', { mode: 0o644 });
    const r1 = await runCli(['live', '--interface', 'lo', '--workers', '0', '--alerts', alerts,
      '--user', 'nobody'], 20_000);
    t.equal(r1.code, 1);
    t.match(r1.stderr, /permission denied \(EACCES\) \(as --user nobody/);
    // A spool only root can write: before the fix its probe passed as root and every
    // undeliverable alert was then dropped without a word.
    const spool = path.join(dir, 'spool');
    const r2 = await runCli(['live', '--interface', 'lo', '--workers', '0', '--alerts',
      '/dev/null', '--http', 'http://127.0.0.1:9', '--spool', spool, '--user', 'nobody'],
    20_000);
    t.equal(r2.code, 2);
    t.match(r2.stderr, /--spool .*: not a writable directory \(EACCES\) \(as --user nobody/);
  });

/** The process that has `file` open: the one to signal, whatever tap wrapped around it. */
function readerOf(file: string): number {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file && Number(pid) !== process.pid) {
          return Number(pid);
        }
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  throw new Error(`no process has ${file} open`);
}

t.test('signals while live is starting: a reload is done once started, a stop stops it',
  { skip: !isRoot && 'needs root' }, async (t) => {
    // The config is a FIFO: the sensor blocks reading it at start-up, after the launcher's
    // first line and before live installs its handlers, and the test's open for writing
    // returns exactly when the sensor has opened it. A signal sent then would, by Node's
    // default, kill the sensor (129 for SIGHUP, 143 for SIGTERM) with nothing printed.
    const dir = tmpDir(t);
    const fifo = path.join(dir, 'config.yaml');
    execFileSync('mkfifo', [fifo]);
    const feed = async () => {
      const fh = await fs.promises.open(fifo, 'w');
      const write = async () => {
        await fh.writeFile('TimeWindow: 300\n');
        await fh.close();
      };
      return { write };
    };
    const start = () => {
      // tap's process tracking puts signal handlers into every child it spawns (through
      // NODE_OPTIONS, whatever env is passed), which would hide the very default this test
      // is about: env(1) starts the sensor without them.
      const sensor = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, BIN, 'live',
        '--interface', 'lo', '--workers', '0', '--log-level', 'info', '--config', fifo],
      { stdio: ['ignore', 'ignore', 'pipe'] });
      t.teardown(() => sensor.kill('SIGKILL'));
      let text = '';
      sensor.stderr!.on('data', (b: Buffer) => { text += b.toString(); });
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        sensor.on('exit', (code, sig) => resolve({ code, signal: sig })));
      const until = async (re: RegExp, ms: number) => {
        for (const t0 = Date.now(); !re.test(text); await new Promise((r) => setTimeout(r, 50))) {
          if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${re}: ${text}`);
        }
      };
      return { sensor, exited, stderr: () => text, until };
    };

    const hup = start();
    const first = await feed();
    process.kill(readerOf(fifo), 'SIGHUP');
    await first.write();
    // Once started, the held SIGHUP reloads the config: the sensor reads the FIFO again.
    // It logs the reopen just before that read, and long after closing its first read of
    // the FIFO, so the next open for writing meets the reload's reader, not the old one.
    await hup.until(/reopening output files/, 30_000);
    await (await feed()).write();
    await hup.until(/capture started/, 30_000);
    await hup.until(/config unchanged/, 30_000);
    t.match(hup.stderr(), /reopening output files/, 'the outputs were reopened');
    t.equal(hup.stderr().match(/reopening output files/g)!.length, 1, 'once');
    hup.sensor.kill('SIGTERM');
    t.same(await hup.exited, { code: 0, signal: null }, 'alive until the SIGTERM, then exit 0');

    const term = start();
    const second = await feed();
    process.kill(readerOf(fifo), 'SIGTERM');
    await second.write();
    const end = await term.exited;
    t.same(end, { code: 0, signal: null }, `an early SIGTERM is a clean stop (${term.stderr()})`);
    t.match(term.stderr(), /stopping capture/);
    t.match(term.stderr(), /tunnelhound: 0 packets/, 'the summary is printed');
  });
