/**
 * Domain events: every record the kernel produces or consumes, their valibot schemas, the registry mapping record
 * type names to stable u16 codes and schema versions, and the deterministic encode/decode used by the log.
 */

export { decodeEvent, encodeEvent, eventEncoderOf, orderIdOfRecord, recordBodyOf, SchemaError, type EncodedEvent, type SchemaErrorKind, type TypeEncoder } from './codec.ts'
export { EVENT_CODES, EVENT_VERSIONS, eventCode, eventTypeForCode } from './registry.ts'
export { EVENT_SCHEMAS } from './schemas.ts'
export type { DomainEvent, EventOf, EventType } from './types.ts'
