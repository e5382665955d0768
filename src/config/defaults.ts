// Every tunable the detections use, with its default and why. Names of the seed's tunable
// elements (DET0538: DataAsymmetryThreshold, PayloadEntropyThreshold, ProtocolBaseline) are
// kept as they are so a detection engineer can find them from the strategy text.

import { DEFAULT_FLOW_TABLE, FlowTableOptions } from '../flow/flow-table';

export interface RuleSwitch {
  enabled: boolean;
}

export interface TunnelhoundConfig {
  flowTable: FlowTableOptions;
  /**
   * Ratio of the larger to the smaller payload direction at which an SSH flow counts as a
   * bulk carrier (AN1483). Interactive shells stay near 1-3; a forwarded download is far above.
   */
  DataAsymmetryThreshold: number;
  /**
   * Corrected payload entropy in bits/byte above which bytes on a cleartext port count as
   * encrypted or compressed (AN1484/AN1485). Text sits near 4.5-5.5, ciphertext near 8.
   */
  PayloadEntropyThreshold: number;
  /**
   * Overrides of the built-in port baseline: "tcp/8443" -> protocols expected there. A
   * protocol listed here never raises a mismatch on that port; one not listed does.
   */
  ProtocolBaseline: Record<string, string[]>;
  rules: {
    protocolPortMismatch: RuleSwitch & {
      /** Least surprise (1 low, 2 medium, 3 high) that raises an alert. */
      minSurprise: 1 | 2 | 3;
    };
    cleartextEntropy: RuleSwitch & {
      /** Fewest payload bytes in a direction before its entropy is judged at all. */
      minSampleBytes: number;
    };
    sshAsymmetry: RuleSwitch & {
      /** A flow must have lasted this long (seconds) to count as long-lived. */
      minDurationSec: number;
      /** ... and carried at least this many payload bytes in all. */
      minPayloadBytes: number;
    };
  };
}

export const DEFAULT_CONFIG: TunnelhoundConfig = {
  flowTable: DEFAULT_FLOW_TABLE,
  DataAsymmetryThreshold: 10,
  PayloadEntropyThreshold: 7.2,
  ProtocolBaseline: {},
  rules: {
    // Low-surprise moves (HTTP on 8080, TLS on 8443) are everyday practice and the biggest
    // source of the "protocol on non-standard port" noise peers are known for: off by default.
    protocolPortMismatch: { enabled: true, minSurprise: 2 },
    cleartextEntropy: { enabled: true, minSampleBytes: 256 },
    sshAsymmetry: { enabled: true, minDurationSec: 60, minPayloadBytes: 1_000_000 },
  },
};
