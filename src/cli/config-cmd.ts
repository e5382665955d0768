// `tunnelhound config check FILE` and `tunnelhound config defaults`: the detection engineer's
// loop of editing the tunables without running a capture to find a typo.

import { DEFAULT_CONFIG, TunnelhoundConfig } from '../config/defaults';
import { changedKeys } from '../config/diff';
import { loadConfig } from '../config/load';
import { defaultsYaml } from '../config/print';

/** The summary names this many changed keys, then counts the rest. */
const MAX_KEYS_LISTED = 12;

/** Check a file (ConfigError when bad) and describe, in one line, what it changes. */
export function configCheck(file: string): string {
  const cfg: TunnelhoundConfig = loadConfig(file);
  const changed = changedKeys(DEFAULT_CONFIG, cfg);
  const name = file === '-' ? '(stdin)' : file;
  if (changed.length === 0) return `${name}: valid, all defaults`;
  const listed = changed.slice(0, MAX_KEYS_LISTED).join(', ');
  const more = changed.length > MAX_KEYS_LISTED
    ? ` and ${changed.length - MAX_KEYS_LISTED} more` : '';
  return `${name}: valid, ${changed.length} key${changed.length === 1 ? '' : 's'} ` +
    `differ${changed.length === 1 ? 's' : ''} from the defaults: ${listed}${more}`;
}

export function configDefaults(): string {
  return defaultsYaml();
}
