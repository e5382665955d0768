// One endpoint event, normalised from whatever agent format it came in (Sysmon, Windows
// Security, auditd, osquery, eslogger, ESXi syslog, ECS JSON). Field names follow ECS so the
// same names appear in an alert's process.* and host.* blocks.
//
// Socket events are always seen from the host that reported them: source = the local side,
// destination = the remote side, whichever end initiated.

export type EndpointAction =
  | 'connect' // the process opened an outbound connection
  | 'accept' // the process accepted an inbound connection
  | 'listen' // the process bound / listens on a local port
  | 'exec' // a process started
  | 'exit' // a process ended
  | 'fork'
  | 'config'; // a setting changed (registry PortProxy, sshd settings)

export type EndpointPlatform = 'windows' | 'linux' | 'macos' | 'esxi' | 'unknown';

export interface EndpointProcess {
  pid?: number;
  name?: string;
  executable?: string;
  command_line?: string;
  args?: string[];
  hash?: { sha256?: string };
  parent?: { pid?: number; name?: string; executable?: string; command_line?: string };
  /** Agent's stable id for the process (Sysmon ProcessGuid, Elastic entity_id). */
  entity_id?: string;
}

export interface EndpointSide {
  ip?: string;
  port?: number;
}

export interface EndpointEvent {
  /** ISO 8601 as the agent reported it (normalised to UTC with Z). */
  '@timestamp': string;
  /** The same instant in seconds since the epoch, for the join. */
  ts: number;
  host: { name?: string; ip?: string[] };
  process: EndpointProcess;
  user?: { name?: string; domain?: string };
  /** Local side of a socket event. */
  source?: EndpointSide;
  /** Remote side of a socket event. */
  destination?: EndpointSide;
  network?: { transport?: 'tcp' | 'udp'; direction?: 'egress' | 'ingress' };
  event: {
    action: EndpointAction;
    /** Reader that produced it: sysmon, winsec, auditd, osquery, eslogger, esxi, ecs, ... */
    module: string;
    /** The agent's own event code (Sysmon 3, Security 5156, syscall name...). */
    code?: string;
    /** 1-based line (or record) in the input where the event started. */
    line?: number;
  };
  platform: EndpointPlatform;
  /** For event.action config: what was set (registry key/value, sshd setting). */
  setting?: { key: string; value: string };
}

/** How well an endpoint event matched a flow. */
export type JoinStrength =
  | 'exact' // both ends, ports and transport agree within TimeWindow (+ skew)
  | 'remote_only'; // the agent reported only the remote end (auditd connect): weaker

/** What the correlator knows about the process behind a flow. */
export interface EndpointMatch {
  strength: JoinStrength;
  /** The process that owned the flow's socket on the reporting host. */
  owner: EndpointEvent;
  /**
   * When the owner is a forwarder (ssh -L, plink -R, netsh portproxy, socat) and a loopback
   * leg to its listening port was seen: the local program using the tunnel (mstsc.exe...).
   */
  client?: EndpointEvent;
  /** Forwarding flags (config ForwardingFlags) found in the owner's command line. */
  forwardingFlags: string[];
  /** The AllowedTools entry the owner matched, if any. */
  allowed?: { action: 'suppress' | 'lower'; entry: number };
}
