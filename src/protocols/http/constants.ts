// HTTP/1.x and HTTP/2 wire constants.

/**
 * Request methods we recognise (IANA "HTTP Method Registry"): RFC 9110 section 9, PATCH
 * (RFC 5789), WebDAV (RFC 4918), SEARCH (RFC 5323). Each is followed by one SP.
 */
export const HTTP_METHODS = [
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH',
] as const;

/** HTTP-version in a request line or status line (RFC 9112 section 2.3). */
export const HTTP1_VERSION_PREFIX = 'HTTP/1.';

/** Status line: "HTTP/1.x" SP 3DIGIT (RFC 9112 section 4). */
export const HTTP1_STATUS_PREFIXES = ['HTTP/1.0 ', 'HTTP/1.1 '] as const;

/**
 * How far we look for the SP that ends the request-target. RFC 9112 section 3 recommends
 * supporting request lines of at least 8000 octets; past that we stop scanning.
 */
export const MAX_REQUEST_TARGET_SCAN = 8192;

/** HTTP/2 client connection preface with prior knowledge (RFC 9113 section 3.4). */
export const HTTP2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
/** A preface cut by the segment end is accepted once its request-line part is there. */
export const HTTP2_PREFACE_MIN_BYTES = 16;
