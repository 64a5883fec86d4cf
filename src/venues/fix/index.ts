/**
 * venues/fix — FIX 4.2/4.4 connectivity: a tag=value codec that validates BodyLength and CheckSum and refuses hostile
 * input with a typed error, an initiator session whose sequence numbers live in the gateway's store, and `FixVenue`,
 * the `VenueAdapter` that speaks NewOrderSingle / OrderCancelRequest / OrderCancelReplaceRequest / OrderStatusRequest
 * and maps ExecutionReports and rejects onto egress's outcomes and reports. See README.md here for the policies.
 */

export { FixVenue, type FixVenueOptions } from './venue.ts'
export { FixSession, type FixSendTicket, type FixSessionHandler, type FixSessionState } from './session.ts'
export type { FixSessionOptions, FixSessionSchedule, ResetOnLogon } from './session-options.ts'
export { MemoryFixSessionStore, FRESH_SEQ_NUMS, type FixSeqNums, type FixSessionStore } from './store.ts'
export {
  decodeFixSeqNumsRecord,
  encodeFixSeqNumsRecord,
  FIX_SEQ_NUMS_RECORD,
  LogFixSessionStore,
  type FixLogFrame,
  type FixLogRecord as FixSeqNumLogRecord,
  type FixSeqNumLog,
  type LogFixSessionStoreOptions,
} from './log-session-store.ts'
export type { FixOrderFacts } from './reports.ts'
export { FixReason, type FixReasonCode } from './reasons.ts'
export {
  decodeFixMessage,
  encodeFixMessage,
  FIX_CODEC_LIMITS_DEFAULT,
  FixCodecError,
  FixFrameReader,
  type FixCodecErrorCode,
  type FixCodecLimits,
} from './codec.ts'
export { FixMessage, type FixField } from './message.ts'
export { fixExecInst, fixOrdType, fixTimeInForce } from './values.ts'
export { MsgType, Tag } from './tags.ts'
export type { FixLog, FixLogLevel, FixLogRecord } from './log.ts'
export { silentFixLog, writeFixLogToStderr } from './log.ts'
export { connectTcp, type FixConnect, type FixTransport, type FixTransportEvents, type FixTransportTarget } from './transport.ts'
