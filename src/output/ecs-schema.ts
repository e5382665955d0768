// The output schema, defined once: the TypeScript type every writer builds and the JSON Schema
// the tests validate real output against. Field names follow the Elastic Common Schema (ECS
// 8.x); what ECS has no field for lives under `tunnelhound.*`.

import {
  ECS_TLS_SCHEMA, EcsTls, TUNNELHOUND_SSH_SCHEMA, TUNNELHOUND_TLS_SCHEMA, TunnelhoundSsh,
  TunnelhoundTls,
} from './ecs-fingerprints';
import {
  ECS_HOST_SCHEMA, ECS_PROCESS_SCHEMA, ECS_USER_SCHEMA, EcsHost, EcsProcess, EcsUser,
  TUNNELHOUND_ENDPOINT_SCHEMA, TunnelhoundEndpoint,
} from './ecs-endpoint';

/** One piece of evidence: which signal fired, what was measured, what it was compared with. */
export interface Evidence {
  /** Stable snake_case signal name, e.g. `protocol_port_mismatch`, `payload_entropy`. */
  signal: string;
  /** The measured value (a number where the signal is numeric). */
  value: number | string;
  /** The threshold or expectation it crossed; null where the signal has none. */
  threshold: number | string | null;
  /**
   * The config key that sets the threshold (dotted path into the YAML config, e.g.
   * `PayloadEntropyThreshold` or `rules.sshAsymmetry.minDurationSec`); null when fixed.
   */
  config_key: string | null;
  /** One human sentence an analyst can read without the docs. */
  detail: string;
}

export interface EcsEndpoint {
  ip: string;
  port: number;
  /** Bytes on the wire sent by this side. */
  bytes: number;
  packets: number;
}

export interface EcsDocument {
  '@timestamp': string;
  event: {
    /** `alert` for detections, `event` for flow records. */
    kind: 'alert' | 'event';
    category: ['network'];
    type: string[];
    /** ECS numeric severity: 21 low, 47 medium, 73 high. */
    severity?: number;
    /** Alerts: `tunnel-detected` on first raise, `tunnel-updated` for later documents. */
    action?: 'tunnel-detected' | 'tunnel-updated';
    /** Stable id: the same alert or flow report always gets the same id (de-duplication). */
    id: string;
    dataset: string;
    module: 'tunnelhound';
    start: string;
    end: string;
    /** Nanoseconds. */
    duration: number;
  };
  rule?: { id: string; name: string; ruleset: string; description: string };
  threat?: {
    framework: 'MITRE ATT&CK';
    technique: { id: ['T1572']; name: ['Protocol Tunneling']; reference: string[] };
    tactic: { id: ['TA0011']; name: ['Command and Control'] };
  };
  source: EcsEndpoint;
  destination: EcsEndpoint;
  network: {
    transport: string;
    iana_number: string;
    /** Protocol identified from the bytes, lower case; `unknown` when none was. */
    protocol: string;
    bytes: number;
    packets: number;
    vlan?: { id: string };
  };
  /** TLS handshake facts and fingerprints (see ecs-fingerprints.ts). */
  tls?: EcsTls;
  /** Alerts joined with the endpoint feed: the process that owned the flow (ecs-endpoint.ts). */
  process?: EcsProcess;
  /** The host that process runs on, as its agent named it. */
  host?: EcsHost;
  user?: EcsUser;
  tunnelhound: {
    /** How the endpoint event was joined, and the linked local client (alerts only). */
    endpoint?: TunnelhoundEndpoint;
    tls?: TunnelhoundTls;
    ssh?: TunnelhoundSsh;
    /** Detection name inside the analytic (alerts only). */
    detection?: string;
    severity_label?: 'low' | 'medium' | 'high';
    /** How sure the analytic is that the flow is a tunnel, 0-100. */
    score?: number;
    /** Every detection combined into this alert, the naming (highest-scoring) one first. */
    detections?: string[];
    /** 0 for the first document of an alert, then 1, 2... for updates (same event.id). */
    alert_update?: number;
    evidence?: Evidence[];
    flow: {
      id: string;
      /** Zeek-style history: S syn, H syn-ack, A ack, D data, F fin, R rst; lower = server. */
      history: string;
      end_reason: string;
      final: boolean;
      report_seq: number;
      payload_bytes: { client: number; server: number };
      protocol_by_direction: { client: string; server: string };
      /** Corrected Shannon entropy, bits/byte; -1 = no sample. */
      entropy: { client: number; server: number };
      entropy_sample_bytes: { client: number; server: number };
      head_hex: { client: string; server: string };
      /** Carrier of a flow seen decapsulated: ipip, 6in4, gre, vxlan, geneve, erspan... */
      encapsulation?: string;
      /** ICMP/ICMPv6 flows with echoes: counts, data sizes and how the data changed. */
      icmp_echo?: {
        requests: number;
        replies: number;
        min_size: number;
        max_size: number;
        /** Distinct echo data sizes; 9 means more than 8. */
        distinct_sizes: number;
        /** Requests whose data (past a 16-byte timestamp) differs from the one before. */
        changed_requests: number;
        /** Replies that repeat none of the last 4 requests. */
        unmatched_replies: number;
        data_bytes: number;
      };
    };
  };
}

const endpoint = {
  type: 'object', additionalProperties: false, required: ['ip', 'port', 'bytes', 'packets'],
  properties: {
    ip: { type: 'string', minLength: 2 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    bytes: { type: 'number', minimum: 0 },
    packets: { type: 'integer', minimum: 0 },
  },
} as const;
const pair = (t: object) => ({
  type: 'object', additionalProperties: false, required: ['client', 'server'],
  properties: { client: t, server: t },
});
const isoTime = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d' };

/** JSON Schema (draft-07) of one NDJSON line, alert or flow record. */
export const ECS_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['@timestamp', 'event', 'source', 'destination', 'network', 'tunnelhound'],
  properties: {
    '@timestamp': isoTime,
    event: {
      type: 'object', additionalProperties: false,
      required: ['kind', 'category', 'type', 'id', 'dataset', 'module', 'start', 'end',
        'duration'],
      properties: {
        kind: { enum: ['alert', 'event'] },
        category: { type: 'array', items: { const: 'network' }, minItems: 1, maxItems: 1 },
        type: { type: 'array', items: { type: 'string' }, minItems: 1 },
        severity: { enum: [21, 47, 73] },
        action: { enum: ['tunnel-detected', 'tunnel-updated'] },
        id: { type: 'string', pattern: '^[0-9a-f]{32}$' },
        dataset: { enum: ['tunnelhound.alert', 'tunnelhound.flow'] },
        module: { const: 'tunnelhound' },
        start: isoTime, end: isoTime,
        duration: { type: 'number', minimum: 0 },
      },
    },
    rule: {
      type: 'object', additionalProperties: false,
      required: ['id', 'name', 'ruleset', 'description'],
      properties: {
        id: { enum: ['AN1483', 'AN1484', 'AN1485', 'AN1486'] },
        name: { type: 'string', minLength: 1 },
        ruleset: { const: 'DET0538' },
        description: { type: 'string', minLength: 1 },
      },
    },
    threat: {
      type: 'object', additionalProperties: false, required: ['framework', 'technique', 'tactic'],
      properties: {
        framework: { const: 'MITRE ATT&CK' },
        technique: {
          type: 'object', additionalProperties: false, required: ['id', 'name', 'reference'],
          properties: {
            id: { type: 'array', items: { const: 'T1572' }, minItems: 1, maxItems: 1 },
            name: { type: 'array', items: { const: 'Protocol Tunneling' }, minItems: 1 },
            reference: { type: 'array', items: { type: 'string' } },
          },
        },
        tactic: {
          type: 'object', additionalProperties: false, required: ['id', 'name'],
          properties: {
            id: { type: 'array', items: { const: 'TA0011' } },
            name: { type: 'array', items: { const: 'Command and Control' } },
          },
        },
      },
    },
    source: endpoint,
    destination: endpoint,
    network: {
      type: 'object', additionalProperties: false,
      required: ['transport', 'iana_number', 'protocol', 'bytes', 'packets'],
      properties: {
        transport: { type: 'string', pattern: '^[a-z0-9-]+$' },
        iana_number: { type: 'string', pattern: '^[0-9]{1,3}$' },
        protocol: { type: 'string', pattern: '^[a-z0-9]+$' },
        bytes: { type: 'number', minimum: 0 },
        packets: { type: 'integer', minimum: 0 },
        vlan: {
          type: 'object', additionalProperties: false, required: ['id'],
          properties: { id: { type: 'string' } },
        },
      },
    },
    tls: ECS_TLS_SCHEMA,
    process: ECS_PROCESS_SCHEMA,
    host: ECS_HOST_SCHEMA,
    user: ECS_USER_SCHEMA,
    tunnelhound: {
      type: 'object', additionalProperties: false, required: ['flow'],
      properties: {
        endpoint: TUNNELHOUND_ENDPOINT_SCHEMA,
        tls: TUNNELHOUND_TLS_SCHEMA,
        ssh: TUNNELHOUND_SSH_SCHEMA,
        detection: { type: 'string', pattern: '^[a-z_]+$' },
        severity_label: { enum: ['low', 'medium', 'high'] },
        score: { type: 'number', minimum: 0, maximum: 100 },
        detections: {
          type: 'array', minItems: 1, items: { type: 'string', pattern: '^[a-z_]+$' },
        },
        alert_update: { type: 'integer', minimum: 0 },
        evidence: {
          type: 'array', minItems: 1,
          items: {
            type: 'object', additionalProperties: false,
            required: ['signal', 'value', 'threshold', 'config_key', 'detail'],
            properties: {
              signal: { type: 'string', pattern: '^[a-z_]+$' },
              value: { type: ['number', 'string'] },
              threshold: { type: ['number', 'string', 'null'] },
              config_key: { type: ['string', 'null'], pattern: '^[A-Za-z][A-Za-z0-9.]*$' },
              detail: { type: 'string', minLength: 1 },
            },
          },
        },
        flow: {
          type: 'object', additionalProperties: false,
          required: ['id', 'history', 'end_reason', 'final', 'report_seq', 'payload_bytes',
            'protocol_by_direction', 'entropy', 'entropy_sample_bytes', 'head_hex'],
          properties: {
            id: { type: 'string' },
            history: { type: 'string', pattern: '^[SHADFRshadfr]*$' },
            end_reason: { enum: ['idle', 'closed', 'evicted', 'active', 'flush'] },
            final: { type: 'boolean' },
            report_seq: { type: 'integer', minimum: 0 },
            payload_bytes: pair({ type: 'number', minimum: 0 }),
            protocol_by_direction: pair({ type: 'string' }),
            entropy: pair({ type: 'number', minimum: -1, maximum: 8 }),
            entropy_sample_bytes: pair({ type: 'integer', minimum: 0 }),
            head_hex: pair({ type: 'string', pattern: '^([0-9a-f]{2})*$' }),
            encapsulation: { type: 'string', pattern: '^[a-z0-9-]+$' },
            icmp_echo: {
              type: 'object', additionalProperties: false,
              required: ['requests', 'replies', 'min_size', 'max_size', 'distinct_sizes',
                'changed_requests', 'unmatched_replies', 'data_bytes'],
              properties: Object.fromEntries(['requests', 'replies', 'min_size', 'max_size',
                'distinct_sizes', 'changed_requests', 'unmatched_replies', 'data_bytes']
                .map((k) => [k, { type: 'integer', minimum: 0 }])),
            },
          },
        },
      },
    },
  },
  // An alert carries rule, threat, severity and evidence; a flow record carries none of them.
  if: { properties: { event: { properties: { kind: { const: 'alert' } } } } },
  then: {
    required: ['rule', 'threat'],
    properties: {
      event: { required: ['severity', 'action'] },
      tunnelhound: {
        required: ['detection', 'detections', 'severity_label', 'score', 'alert_update',
          'evidence'],
      },
    },
  },
  else: { not: { anyOf: [{ required: ['rule'] }, { required: ['threat'] }] } },
} as const;
