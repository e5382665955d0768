// Every built-in endpoint reader registers itself on import; import this module (not
// ./reader) to get them all. One line per format.

import './auditd';
import './ecs';
import './esxi';
import './eslogger';
import './evtx-json';
import './ocsf';
import './osquery';
import './winevent-text';
import './windows-xml';

export * from './reader';
