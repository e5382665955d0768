// SMB over TCP: NetBIOS session service framing (RFC 1002 section 4.3) or the same 4-byte
// header on direct TCP (MS-SMB2 2.1), then an SMB protocol id.

/** NetBIOS session packet types (RFC 1002 section 4.3.1). */
export const NBSS_TYPE = { SESSION_MESSAGE: 0x00, SESSION_REQUEST: 0x81 } as const;
export const NBSS_HEADER_BYTES = 4;

/** Protocol ids: SMB1 (MS-CIFS 2.2.3.1), SMB2 (MS-SMB2 2.2.1), transform (2.2.41),
 * compression transform (2.2.42). Stored as u32 big-endian. */
export const SMB_PROTOCOL_ID = {
  SMB1: 0xff534d42, // \xFFSMB
  SMB2: 0xfe534d42, // \xFESMB
  TRANSFORM: 0xfd534d42, // \xFDSMB
  COMPRESSION: 0xfc534d42, // \xFCSMB
} as const;

/** Header sizes, which an NBSS length must at least cover. */
export const SMB1_HEADER_BYTES = 32;
export const SMB2_HEADER_BYTES = 64;
export const SMB2_TRANSFORM_HEADER_BYTES = 52;
export const SMB2_COMPRESSION_HEADER_BYTES = 16;
/** SMB2 header StructureSize field, little-endian at offset 4, always 64 (MS-SMB2 2.2.1). */
export const SMB2_STRUCTURE_SIZE = 64;

/**
 * NetBIOS session request: called and calling names, each first-level encoded (RFC 1001
 * section 14.1): length byte 0x20, 32 characters 'A'-'P', then scope labels and a 0.
 */
export const NBSS_ENCODED_NAME_LENGTH = 0x20;
export const NBSS_MIN_SESSION_REQUEST_BYTES = 68;
