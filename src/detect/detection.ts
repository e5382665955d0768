// What a rule returns when it fires: the analytic it belongs to, a score and the evidence.

import { Severity } from '../config/defaults';
import { Evidence } from '../output/ecs-schema';

/** The seed's analytics (DET0538), one per platform: Windows, Linux, macOS, ESXi. */
export type AnalyticId = 'AN1483' | 'AN1484' | 'AN1485' | 'AN1486';

export interface Detection {
  /**
   * The analytic the rule files under when nothing better is known: the one whose tunable
   * drives it. The analytics layer may move it to the platform of the owning process.
   */
  analytic: AnalyticId;
  /** Stable snake_case name of the detection inside the analytic. */
  detection: string;
  name: string;
  description: string;
  severity: Severity;
  /** How sure the rule is, 0-100 (100 = certain tunnel). */
  score: number;
  /** Every entry names the measured value, the threshold and the config key that sets it. */
  evidence: Evidence[];
}
