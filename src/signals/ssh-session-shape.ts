// SSH session shape (issue 4, AN1483): what an SSH connection is used for, read from the
// sizes and timing of its encrypted segments (FlowRecord.sshShape, measured on the worker by
// src/flow/features/ssh-shape.ts). Our own method; JA4SSH is not used (FoxIO licence).
//
//   interactive      a person typing: keystroke-sized segments the server echoes in kind
//   file-copy        scp/sftp: long back-to-back bulk runs one way, few request exchanges
//   forward-local    -L or -D: after authentication the client starts request/answer
//                    exchanges following quiet spells (each a direct-tcpip channel, RFC
//                    4254 section 7.2), or an inner SSH session's keystrokes travel
//                    wrapped in channel data (-J/-W)
//   forward-reverse  -R: the server starts exchanges the client answers with data (each a
//                    forwarded-tcpip channel the server opens, RFC 4254 section 7.1), or
//                    keystrokes come from the server's side and the client echoes them
//   unknown          too little traffic, or nothing above decided
//
// gap: -L and -D are the same on the wire (both open direct-tcpip channels; the SOCKS talk
// stays on the client's loopback), so both are "forward-local"; the endpoint feed's command
// line (ForwardingFlags) is what tells -D apart. Known look-alikes of forwarding: an sftp
// prompt used by hand for small files, rsync phases, ansible-style multiplexed sessions
// (each task a new channel) also start request exchanges after quiet spells.

import { TunnelhoundConfig } from '../config/defaults';
import { Detection } from '../detect/detection';
import { LONG_RUN_SEGMENTS } from '../flow/features/ssh-shape';
import { FlowRecord, SshShapeRecord } from '../flow/flow-record';
import { Evidence } from '../output/ecs-schema';
import { SignalFactory } from './signal';

export type SshSessionClass =
  | 'interactive' | 'file-copy' | 'forward-local' | 'forward-reverse' | 'unknown';

export interface SshShapeVerdict {
  cls: SshSessionClass;
  /**
   * What decided it: for the forwarding classes, only entries whose measured value reached
   * their threshold (what did not happen is said in their detail).
   */
  evidence: Evidence[];
}

/**
 * An interactive session may carry a few pastes or a forward used now and then; it stays
 * interactive while it has at least this many echoed keystrokes per request exchange.
 */
export const ECHOES_PER_REQUEST_EXCHANGE = 5;

const KEY = 'rules.sshSessionShape';
const SIDE = ['client', 'server'] as const;

function ev(signal: string, value: number, threshold: number, configKey: string | null,
  detail: string): Evidence {
  return { signal, value, threshold, config_key: configKey, detail };
}

/** The class of an SSH flow's session, with the evidence for it. Pure; never throws. */
export function classifySshShape(cfg: TunnelhoundConfig, s: SshShapeRecord | undefined):
  SshShapeVerdict {
  const rule = cfg.rules.sshSessionShape;
  if (s === undefined || s.handshake === 'pending') return { cls: 'unknown', evidence: [] };
  const packets = s.packets[0] + s.packets[1];
  if (packets < rule.minPackets) {
    return {
      cls: 'unknown',
      evidence: [ev('ssh_encrypted_segments', packets, rule.minPackets, `${KEY}.minPackets`,
        'too few encrypted payload segments to judge the session')],
    };
  }
  const ks = `${s.keystrokeBytes[0]}/${s.keystrokeBytes[1]}-byte keystrokes` +
    (s.algorithmsKnown ? ` (${s.cipher[0] || '?'})` : ' (assumed chacha20-poly1305)');

  // Someone typing on the server's side into a session the client end carries: keystrokes
  // (bare, or an inner SSH session's wrapped once more) flow server to client and the client
  // echoes them. A shell reached back through ssh -R looks like this.
  const serverKeys = Math.max(s.echoed[1], s.nestedEchoed[1]);
  if (s.typed[1] >= rule.minEchoes && serverKeys >= rule.minEchoes &&
    serverKeys > Math.max(s.echoed[0], s.nestedEchoed[0])) {
    const nested = s.nestedEchoed[1] > s.echoed[1];
    return {
      cls: 'forward-reverse',
      evidence: [
        ev(nested ? 'ssh_server_nested_keystroke_echoes' : 'ssh_server_keystroke_echoes',
          serverKeys, rule.minEchoes, `${KEY}.minEchoes`, `${serverKeys} ` +
          `${nested ? 'inner-SSH keystrokes' : 'keystrokes'} sent by the server and echoed ` +
          `by the client (client-side echoes of its own: ${Math.max(s.echoed[0],
            s.nestedEchoed[0])}; ${ks}): a session typed from the server's side`),
        ev('ssh_typed_keystrokes', s.typed[1], rule.minEchoes, `${KEY}.minEchoes`,
          'server keystroke-sized segments spaced 30 ms to 2 s apart, like typing'),
      ],
    };
  }

  // Reverse forwarding: the server opens channels and the client answers with data.
  if (s.requestExchanges[1] >= 1 && s.exchangeBytes[1] >= rule.minReverseBytes) {
    return {
      cls: 'forward-reverse',
      evidence: [
        ev('ssh_server_started_exchanges', s.exchangeBytes[1], rule.minReverseBytes,
          `${KEY}.minReverseBytes`, `${s.requestExchanges[1]} exchange(s) started by the ` +
          `server after a quiet spell and answered with data by the client, ` +
          `${s.exchangeBytes[1]} data bytes: the server side opens the connections ` +
          `(${s.echoed[0]} echoed client keystrokes, ${ks})`),
      ],
    };
  }

  // A person types at human pace; a machine's small segments (sftp acknowledgements,
  // window adjustments) come in bursts. Echoes count only with typing behind them.
  const typed = s.typed[0];
  const typing = ev('ssh_typed_keystrokes', typed, rule.minEchoes, `${KEY}.minEchoes`,
    'client keystroke-sized segments spaced 30 ms to 2 s apart, like typing');

  // An SSH session inside the channel: its keystrokes, wrapped once more, echoed in kind.
  if (typed >= rule.minEchoes && s.nestedEchoed[0] >= rule.minEchoes &&
    s.nestedEchoed[0] > s.echoed[0]) {
    return {
      cls: 'forward-local',
      evidence: [ev('ssh_nested_keystroke_echoes', s.nestedEchoed[0], rule.minEchoes,
        `${KEY}.minEchoes`, `${s.nestedEchoed[0]} segments the size of an inner SSH ` +
        `keystroke in one channel-data packet, echoed in kind (outer ${ks}): an SSH ` +
        'session carried through this one (ssh -J / -W, or over -L)'), typing],
    };
  }

  const requests = s.requestExchanges[0];
  const echoes = s.echoed[0];
  const echoEvidence = ev('ssh_keystroke_echoes', echoes, rule.minEchoes, `${KEY}.minEchoes`,
    `client keystrokes echoed by the server (${ks}); ${requests} request exchange(s)`);
  if (typed >= rule.minEchoes && echoes >= rule.minEchoes &&
    echoes >= requests * ECHOES_PER_REQUEST_EXCHANGE) {
    return { cls: 'interactive', evidence: [echoEvidence, typing] };
  }

  const exchanges = (threshold: number, key: string, why: string): Evidence =>
    ev('ssh_client_request_exchanges', requests, threshold, `${KEY}.${key}`, `${requests} ` +
      'exchange(s) the client started with a request after a quiet spell and the server ' +
      `answered with data (${s.exchangeBytes[0]} data bytes), ${echoes} echoed ` +
      `keystrokes; ${why}`);
  const bulkDir = s.longestBulkRun[0] >= s.longestBulkRun[1] ? 0 : 1;
  const longRuns = s.longBulkRuns[bulkDir];
  if (longRuns >= 1) {
    // Long bulk runs read as a file copy unless the client kept opening new exchanges.
    const over = exchanges(rule.minExchangesOverBulk, 'minExchangesOverBulk',
      'with bulk runs, this many make forwarded transfers rather than one file copy');
    if (requests >= rule.minExchangesOverBulk) {
      return { cls: 'forward-local', evidence: [over] };
    }
    return {
      cls: 'file-copy',
      evidence: [
        ev('ssh_bulk_run', s.longestBulkRun[bulkDir], LONG_RUN_SEGMENTS, null,
          `longest run of back-to-back bulk segments from the ${SIDE[bulkDir]}, ` +
          `${longRuns} run(s) of ${LONG_RUN_SEGMENTS} or more; ${requests} client request ` +
          `exchange(s), fewer than the ${rule.minExchangesOverBulk} that would make it ` +
          'forwarded transfers'),
      ],
    };
  }
  const forward = exchanges(rule.minForwardExchanges, 'minForwardExchanges',
    'no file-copy bulk runs and no typing: connections carried through the session');
  if (requests >= rule.minForwardExchanges) {
    return { cls: 'forward-local', evidence: [forward] };
  }
  return { cls: 'unknown', evidence: [echoEvidence, forward] };
}

function detectionOf(cfg: TunnelhoundConfig, v: SshShapeVerdict, r: FlowRecord):
  Detection | null {
  const pinned = cfg.rules.sshSessionShape.severity;
  const where = `${r.serverIp}:${r.serverPort}`;
  if (v.cls === 'forward-reverse') {
    return {
      analytic: 'AN1483',
      detection: 'ssh_forward_reverse',
      name: 'SSH reverse port forwarding',
      description: `the SSH server ${where} starts connections inside the session that the ` +
        'client answers with data: the shape of ssh -R, a listener on the server reaching ' +
        "back into the client's network",
      severity: pinned ?? 'high',
      score: 75,
      evidence: v.evidence,
    };
  }
  if (v.cls === 'forward-local') {
    return {
      analytic: 'AN1483',
      detection: 'ssh_forward_local',
      name: 'SSH local or dynamic port forwarding',
      description: `the SSH session to ${where} carries other connections (request and ` +
        'answer exchanges, or an inner SSH session) rather than a shell or a file copy: ' +
        'the shape of ssh -L, -D or -J',
      severity: pinned ?? 'medium',
      score: 65,
      evidence: v.evidence,
    };
  }
  return null;
}

export const sshSessionShapeSignal: SignalFactory = (cfg) => ({
  name: 'ssh_session_shape',
  judge: ({ record }) => {
    if (!cfg.rules.sshSessionShape.enabled || record.sshShape === undefined) return null;
    return detectionOf(cfg, classifySshShape(cfg, record.sshShape), record);
  },
});
