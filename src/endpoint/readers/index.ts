// Every built-in endpoint reader registers itself on import; import this module (not
// ./reader) to get them all. One line per format.

import './ecs';
import './evtx-json';
import './windows-xml';

export * from './reader';
