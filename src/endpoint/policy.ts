// The endpoint side of the seed's tunables: ForwardingFlags (AN1484: command-line flags and
// sshd settings that mean port forwarding) and AllowedTools (AN1483: tools admins use on
// purpose). Both look at the process that owned a flow's socket.
//
// Flags are matched on argv, not on the command-line text, so `-L8080:h:80`, `-L 8080:h:80`
// and `-NfR 13389:...` are all found and `-o LocalForward=no` or a remote command containing
// "-L" is not. sshd is never judged by its argv (its -D means "do not detach" and -R "re-exec"):
// sshd entries are settings, matched against config events (sshd_config lines).

import { AllowedTool, TunnelhoundConfig } from '../config/defaults';
import { EndpointEvent, EndpointProcess } from './event';

/** Arguments looked at per process: argv past this is not read (a hostile process can be long). */
export const MAX_ARGS_SCANNED = 128;

/**
 * OpenSSH client options that take a value (ssh.c getopt string). In a cluster such as `-NfR`
 * the letters after one of these are its value, and when it ends the cluster the next argv is.
 */
const SSH_VALUE_OPTS = new Set('bceilmopBDEFIJLOPQRSwW'.split(''));
/** Programs parsed with OpenSSH's getopt rules (autossh passes its options through). */
const SSH_FAMILY = new Set(['ssh', 'autossh']);

/** Lower-case basename without a Windows `.exe`: `C:\Tools\PLINK.EXE` -> `plink`. */
export function programName(p: EndpointProcess): string {
  const raw = p.executable ?? p.name ?? p.args?.[0] ?? '';
  const base = raw.slice(Math.max(raw.lastIndexOf('/'), raw.lastIndexOf('\\')) + 1);
  return base.toLowerCase().replace(/\.exe$/, '');
}

/** argv of a process: its args when the agent gave them, else the command line split. */
export function argvOf(p: EndpointProcess): string[] {
  if (p.args !== undefined && p.args.length > 0) return p.args.slice(0, MAX_ARGS_SCANNED);
  return splitCommandLine(p.command_line ?? '').slice(0, MAX_ARGS_SCANNED);
}

/**
 * Splits a command line on blanks, keeping "double quoted" runs together (the common part of
 * the POSIX shell and Windows CommandLineToArgvW rules; backslash escapes are not applied).
 */
export function splitCommandLine(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let has = false;
  for (const ch of s) {
    if (ch === '"') { inQuote = !inQuote; has = true; continue; }
    if (!inQuote && (ch === ' ' || ch === '\t')) {
      if (has) out.push(cur);
      cur = '';
      has = false;
      continue;
    }
    cur += ch;
    has = true;
  }
  if (has) out.push(cur);
  return out;
}

/** ssh-family argv: the forwarding options found, each with its value (`-R 13389:h:3389`). */
function sshFlags(argv: string[], wanted: Set<string>): string[] {
  const found: string[] = [];
  let nonOptions = 0;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (!a.startsWith('-') || a.length < 2) {
      // OpenSSH reads options again after the destination; the next word starts the command.
      if (++nonOptions >= 2) break;
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const letter = a[k];
      if (!SSH_VALUE_OPTS.has(letter)) continue;
      let value = a.slice(k + 1);
      if (value === '') value = argv[++i] ?? '';
      if (wanted.has(`-${letter}`)) found.push(`-${letter} ${value}`.trim());
      break;
    }
  }
  return found;
}

/** Other programs: `-X`, `-Xvalue` (not `-Xword`) or, for words, a run of abbreviations. */
function genericFlags(argv: string[], flags: string[]): string[] {
  const found: string[] = [];
  const lower = argv.map((a) => a.toLowerCase());
  let wordsFound = false;
  for (const flag of flags) {
    const f = flag.toLowerCase();
    if (/^-[A-Za-z]$/.test(flag)) {
      // Option letters keep their case: plink's -l is the user name, -L a forward.
      for (let i = 1; i < argv.length; i++) {
        const a = argv[i];
        if (a === flag) found.push(`${flag} ${argv[i + 1] ?? ''}`.trim());
        else if (a.startsWith(flag) && !/[A-Za-z]/.test(a[2])) {
          found.push(`${flag} ${a.slice(2)}`);
        }
      }
      continue;
    }
    const words = f.split(/\s+/);
    if (words.length > 1) {
      // netsh resolves each word by unique prefix: `i p a v` is `interface portproxy add v4tov4`.
      // One context named is enough: `interface portproxy` and `i p a` both cover `i p a v`.
      for (let i = 1; i + words.length <= lower.length && !wordsFound; i++) {
        if (words.every((w, k) => w.startsWith(lower[i + k]) && lower[i + k] !== '')) {
          found.push(argv.slice(i, i + words.length).join(' '));
          wordsFound = true;
        }
      }
      continue;
    }
    // An address keyword such as socat's TCP-LISTEN:port (alias TCP-L:port).
    const alias = f.endsWith('-listen') ? f.slice(0, -'isten'.length) : null;
    for (let i = 1; i < lower.length; i++) {
      const a = lower[i];
      if (a === f || a.startsWith(`${f}:`) || a.startsWith(`${f},`) ||
        (alias !== null && (a.startsWith(`${alias}:`) || a === alias))) {
        found.push(argv[i]);
      }
    }
  }
  return found;
}

/** The forwarding flags configured for this program that its argv uses. */
export function forwardingFlags(cfg: TunnelhoundConfig, p: EndpointProcess): string[] {
  const prog = programName(p);
  if (prog === 'sshd' || prog.startsWith('sshd-')) return []; // settings only, see above
  const flags = flagsFor(cfg, prog);
  if (flags === undefined || flags.length === 0) return [];
  const argv = argvOf(p);
  if (SSH_FAMILY.has(prog)) return sshFlags(argv, new Set(flags));
  return genericFlags(argv, flags);
}

function flagsFor(cfg: TunnelhoundConfig, prog: string): string[] | undefined {
  for (const [k, v] of Object.entries(cfg.ForwardingFlags)) {
    if (k.toLowerCase().replace(/\.exe$/, '') === prog) return v;
  }
  return undefined;
}

/** sshd settings (config events) that the ForwardingFlags `sshd` list names. */
export function sshdSettingFlags(cfg: TunnelhoundConfig, settings: EndpointEvent[]): string[] {
  const wanted = flagsFor(cfg, 'sshd') ?? [];
  const found: string[] = [];
  for (const e of settings) {
    if (e.setting === undefined) continue;
    const text = `${e.setting.key} ${e.setting.value}`.toLowerCase().replace(/\s+/g, ' ');
    for (const w of wanted) {
      if (text === w.toLowerCase().replace(/\s+/g, ' ') && !found.includes(w)) found.push(w);
    }
  }
  return found;
}

/** A Windows path (drive letter or backslash) compares without case, as NTFS does. */
function sameExecutable(a: string, b: string): boolean {
  const windows = /^[A-Za-z]:|\\/.test(a) || /^[A-Za-z]:|\\/.test(b);
  return windows ? a.toLowerCase() === b.toLowerCase() : a === b;
}

function sameUser(entry: string, e: EndpointEvent): boolean {
  const u = e.user;
  if (u?.name === undefined) return false;
  const want = entry.toLowerCase();
  const name = u.name.toLowerCase();
  return want === name || (u.domain !== undefined && want === `${u.domain.toLowerCase()}\\${name}`);
}

function toolMatches(t: AllowedTool, e: EndpointEvent): boolean {
  const p = e.process;
  if (t.executable !== undefined &&
    (p.executable === undefined || !sameExecutable(t.executable, p.executable))) return false;
  if (t.name !== undefined &&
    t.name.toLowerCase().replace(/\.exe$/, '') !== programName(p)) return false;
  if (t.sha256 !== undefined &&
    t.sha256.toLowerCase() !== p.hash?.sha256?.toLowerCase()) return false;
  if (t.user !== undefined && !sameUser(t.user, e)) return false;
  return t.executable !== undefined || t.name !== undefined || t.sha256 !== undefined ||
    t.user !== undefined;
}

/** The first AllowedTools entry the process matches (every field given must match). */
export function allowedTool(cfg: TunnelhoundConfig, e: EndpointEvent):
  { action: 'suppress' | 'lower'; entry: number } | undefined {
  for (let i = 0; i < cfg.AllowedTools.length; i++) {
    const t = cfg.AllowedTools[i];
    if (toolMatches(t, e)) return { action: t.action, entry: i };
  }
  return undefined;
}

/** Local ports a forwarder listens on, read from its flags (`-L [addr:]port:host:hp`...). */
export function forwardedListenPorts(flags: string[]): number[] {
  const ports: number[] = [];
  for (const f of flags) {
    const m = /^-[LRD]\s+(?:\[[^\]]*\]:|[^:\s]*:)?(\d{1,5})(?::|$)/.exec(f) ??
      /listen[^:]*:(\d{1,5})/i.exec(f) ?? /listenport=(\d{1,5})/i.exec(f);
    if (m !== null && Number(m[1]) > 0 && Number(m[1]) < 65536) ports.push(Number(m[1]));
  }
  return ports;
}
