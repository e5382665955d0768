// pcaps/lab.yaml, the network context of the lab captures, as the JSON config the CLI reads
// (until the YAML loader lands). The test that uses it checks lab.yaml still says the same.

import fs from 'node:fs';
import path from 'node:path';
import { PCAPS } from './cli';

export const LAB_CONFIG = {
  networks: { internal: ['10.77.0.0/16', 'fd77::/16'] },
  assets: {
    dnsResolvers: ['10.77.0.2', 'fd77::2'],
    esxiManagement: [{ address: '10.77.0.50', profile: 'management' }],
  },
};

/** Writes LAB_CONFIG into `dir` and returns the file's path. */
export function writeLabConfig(dir: string): string {
  const file = path.join(dir, 'lab.json');
  fs.writeFileSync(file, JSON.stringify(LAB_CONFIG));
  return file;
}

/** The lines of lab.yaml that LAB_CONFIG mirrors, for a consistency check. */
export const LAB_YAML_PATTERNS = [
  /internal: \[10\.77\.0\.0\/16, fd77::\/16\]/,
  /dnsResolvers: \[10\.77\.0\.2, fd77::2\]/,
  /esxiManagement:\n\s+- \{ address: 10\.77\.0\.50, profile: management \}/,
];

export function labYaml(): string {
  return fs.readFileSync(path.join(PCAPS, 'lab.yaml'), 'utf8');
}
