// Runs the real CLI (bin/tunnelhound.js) as a child process, as a user would.

import { ChildProcess, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');
export const BIN = path.join(REPO, 'bin/tunnelhound.js');
export const CORPUS = path.resolve(REPO, '../shared/corpus/public');
export const PCAPS = path.join(REPO, 'pcaps');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
  });
}

/** Every capture file of the public corpus (not the expected-output files beside them). */
export function corpusCaptures(): string[] {
  const manifest = fs.readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const header = manifest[0].split('\t');
  const fileCol = header.indexOf('file');
  return manifest.slice(1).map((l) => l.split('\t')[fileCol])
    .filter((f) => fs.existsSync(path.join(CORPUS, f)))
    .map((f) => path.join(CORPUS, f));
}

export function parseNdjson(text: string): Array<Record<string, any>> {
  return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

/** Run `fn` over items with at most `n` at a time. */
export async function pool<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

/**
 * The alerts of replaying one corpus capture, written to a file (not standard output) and
 * read back; `config` is written as a JSON config file when given.
 */
export async function corpusAlerts(file: string, config?: object):
  Promise<Array<Record<string, any>>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-corpus-'));
  try {
    const out = path.join(dir, 'alerts.ndjson');
    const args = ['replay', '--workers', '0', '--no-progress', '--alerts', out];
    if (config !== undefined) {
      fs.writeFileSync(path.join(dir, 'c.json'), JSON.stringify(config));
      args.push('--config', path.join(dir, 'c.json'));
    }
    const r = await runCli([...args, path.join(CORPUS, file)]);
    if (r.code !== 0) throw new Error(r.stderr);
    return parseNdjson(fs.readFileSync(out, 'utf8'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves with the child's standard error so far once it matches `re`; rejects after `ms`. */
export function waitForStderr(child: ChildProcess, re: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${re}: ${text}`)), ms);
    child.stderr!.on('data', (b: Buffer) => {
      text += b.toString();
      if (re.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
  });
}
