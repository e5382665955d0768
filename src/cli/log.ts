// Logs go to standard error (fd 2) as pino JSON, so standard output carries only data.

import pino from 'pino';

export type Logger = pino.Logger;

export function makeLogger(level: string): Logger {
  return pino({ level, base: { name: 'tunnelhound' } }, pino.destination({ fd: 2, sync: true }));
}
