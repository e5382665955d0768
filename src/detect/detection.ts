// What a rule returns when it fires: the analytic it belongs to and the evidence.

import { Evidence } from '../output/ecs-schema';

/** The seed's analytics (DET0538); a rule is filed under the one whose tunable drives it. */
export type AnalyticId = 'AN1483' | 'AN1484' | 'AN1485' | 'AN1486';

export interface Detection {
  analytic: AnalyticId;
  /** Stable snake_case name of the detection inside the analytic. */
  detection: string;
  name: string;
  description: string;
  severity: 'low' | 'medium' | 'high';
  evidence: Evidence[];
}
