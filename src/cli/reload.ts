// Config reload on SIGHUP for `live`: the file is read and checked again; a valid file swaps
// the detections' config without touching the flow table, a bad one leaves the running
// config in place. Either way the operator reads in the log what happened and why.

import { ConfigError, loadConfig } from '../config/load';
import { Logger } from './log';
import { Sensor } from './sensor';

/** Reload `file` into the sensor; true when the file was valid (applied or unchanged). */
export function reloadConfig(file: string, sensor: Pick<Sensor, 'reconfigure'>,
  log: Logger): boolean {
  let next;
  try {
    next = loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log.error({ file, problems: err.problems }, 'config reload failed, running config kept');
    return false;
  }
  const { changed, ignored } = sensor.reconfigure(next);
  for (const key of ignored) {
    log.warn({ file, key }, 'config key ignored until restart (flow table sized at start)');
  }
  log.info({ file, changed }, changed.length > 0 ? 'config reloaded' : 'config unchanged');
  return true;
}
