/**
 * Options of one FIX initiator session, validated, with every default named here.
 */

import type { Clock } from '../../domain/clock.ts'
import { FIX_CODEC_LIMITS_DEFAULT, type FixCodecLimits } from './codec.ts'
import type { FixLog } from './log.ts'
import { writeFixLogToStderr } from './log.ts'
import type { FixSessionStore } from './store.ts'
import { BEGIN_STRINGS, type BeginString } from './tags.ts'
import { connectTcp, type FixConnect, type FixTransportTarget } from './transport.ts'

/** A daily window (UTC) in which the session may be logged on; outside it the session logs out and stays down. */
export interface FixSessionSchedule {
  /** "HH:MM:SS" UTC. */
  startUtc: string
  /** "HH:MM:SS" UTC; may be earlier than start (a window across midnight). Equal to start: always on. */
  endUtc: string
}

/** `always`: every logon carries ResetSeqNumFlag=Y and starts both sides at 1. `never`: numbers carry on. */
export type ResetOnLogon = 'always' | 'never'

/** QuickFIX's MaxLatency default: a SendingTime further than this from egress's clock is refused. */
export const FIX_SENDING_TIME_TOLERANCE_MS = 120_000

export interface FixSessionOptions {
  beginString: BeginString
  senderCompId: string
  targetCompId: string
  host: string
  port: number
  tls?: FixTransportTarget['tls']
  store: FixSessionStore
  clock: Clock
  heartbeatIntervalSeconds?: number
  resetOnLogon?: ResetOnLogon
  schedule?: FixSessionSchedule
  connectTimeoutMs?: number
  logonTimeoutMs?: number
  logoutTimeoutMs?: number
  reconnectDelayMsMin?: number
  reconnectDelayMsMax?: number
  /** Messages above a sequence gap held until the gap is filled; beyond it the session disconnects. */
  queuedMessagesMax?: number
  /**
   * Fields of the messages held above a sequence gap, all together; beyond it the session disconnects. A message's heap
   * follows its fields (~70 bytes each), not its bytes: a 64 KiB message of tiny fields holds ~0.6 MB.
   */
  queuedFieldsMax?: number
  /**
   * Bytes accepted by the socket but not yet written, and bytes waiting for the store's save, each at most; beyond it the
   * peer is not reading (or the store not keeping up) and the session disconnects.
   */
  writeBufferBytesMax?: number
  /** Garbled messages (bad checksum or fields) in a row before the session gives up on the connection. */
  garbledMessagesMax?: number
  /**
   * How far a message's SendingTime may be from egress's clock (QuickFIX's MaxLatency, 120 s); beyond it the message is
   * rejected (SessionRejectReason 10) and the session logs out.
   */
  sendingTimeToleranceMs?: number
  limits?: Partial<FixCodecLimits>
  log?: FixLog
  /** Transport factory; TCP/TLS by default. Specs inject fault-injecting wrappers. */
  connect?: FixConnect
}

export interface ResolvedFixSessionOptions {
  beginString: BeginString
  senderCompId: string
  targetCompId: string
  target: FixTransportTarget
  store: FixSessionStore
  clock: Clock
  heartbeatIntervalSeconds: number
  resetOnLogon: ResetOnLogon
  schedule: { startSecond: number; endSecond: number } | null
  logonTimeoutMs: number
  logoutTimeoutMs: number
  reconnectDelayMsMin: number
  reconnectDelayMsMax: number
  queuedMessagesMax: number
  queuedFieldsMax: number
  writeBufferBytesMax: number
  garbledMessagesMax: number
  sendingTimeToleranceMs: number
  limits: FixCodecLimits
  log: FixLog
  connect: FixConnect
}

export function resolveFixSessionOptions(options: FixSessionOptions): ResolvedFixSessionOptions {
  if (!(BEGIN_STRINGS as readonly string[]).includes(options.beginString)) {
    throw new RangeError(`beginString must be one of ${BEGIN_STRINGS.join(', ')}, got ${JSON.stringify(options.beginString)}`)
  }
  for (const [name, value] of [['senderCompId', options.senderCompId], ['targetCompId', options.targetCompId], ['host', options.host]] as const) {
    if (!/^[\x21-\x7e]{1,64}$/.test(value)) throw new RangeError(`${name} must be 1–64 printable ASCII characters, got ${JSON.stringify(value)}`)
  }
  const resolved: ResolvedFixSessionOptions = {
    beginString: options.beginString,
    senderCompId: options.senderCompId,
    targetCompId: options.targetCompId,
    target: {
      host: options.host,
      port: integer('port', options.port, 1, 65_535),
      connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs ?? 5_000, 1, 600_000),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    },
    store: options.store,
    clock: options.clock,
    heartbeatIntervalSeconds: integer('heartbeatIntervalSeconds', options.heartbeatIntervalSeconds ?? 30, 1, 3_600),
    resetOnLogon: options.resetOnLogon ?? 'never',
    schedule: options.schedule === undefined ? null : resolveSchedule(options.schedule),
    logonTimeoutMs: integer('logonTimeoutMs', options.logonTimeoutMs ?? 10_000, 1, 600_000),
    logoutTimeoutMs: integer('logoutTimeoutMs', options.logoutTimeoutMs ?? 2_000, 1, 600_000),
    reconnectDelayMsMin: integer('reconnectDelayMsMin', options.reconnectDelayMsMin ?? 500, 1, 3_600_000),
    reconnectDelayMsMax: integer('reconnectDelayMsMax', options.reconnectDelayMsMax ?? 30_000, 1, 3_600_000),
    queuedMessagesMax: integer('queuedMessagesMax', options.queuedMessagesMax ?? 10_000, 1, 1_000_000),
    // 10,000 messages of 50 fields; ~35 MB of heap at most.
    queuedFieldsMax: integer('queuedFieldsMax', options.queuedFieldsMax ?? 500_000, 100, 100_000_000),
    writeBufferBytesMax: integer('writeBufferBytesMax', options.writeBufferBytesMax ?? 4 * 1024 * 1024, 1024, 1024 ** 3),
    garbledMessagesMax: integer('garbledMessagesMax', options.garbledMessagesMax ?? 3, 1, 1_000),
    sendingTimeToleranceMs: integer('sendingTimeToleranceMs', options.sendingTimeToleranceMs ?? FIX_SENDING_TIME_TOLERANCE_MS, 1_000, 86_400_000),
    limits: { ...FIX_CODEC_LIMITS_DEFAULT, ...options.limits },
    log: options.log ?? writeFixLogToStderr,
    connect: options.connect ?? connectTcp,
  }
  if (!['always', 'never'].includes(resolved.resetOnLogon)) {
    throw new RangeError(`resetOnLogon must be "always" or "never", got ${JSON.stringify(resolved.resetOnLogon)}`)
  }
  if (resolved.reconnectDelayMsMax < resolved.reconnectDelayMsMin) {
    throw new RangeError(`reconnectDelayMsMax (${resolved.reconnectDelayMsMax}) must be ≥ reconnectDelayMsMin (${resolved.reconnectDelayMsMin})`)
  }
  if (resolved.limits.bufferBytesMax < resolved.limits.messageBytesMax + 64) {
    throw new RangeError(`limits.bufferBytesMax must exceed messageBytesMax + 64, got ${resolved.limits.bufferBytesMax}`)
  }
  return resolved
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`)
  }
  return value
}

function resolveSchedule(schedule: FixSessionSchedule): { startSecond: number; endSecond: number } {
  return { startSecond: secondOfDay('schedule.startUtc', schedule.startUtc), endSecond: secondOfDay('schedule.endUtc', schedule.endUtc) }
}

function secondOfDay(name: string, text: string): number {
  const match = /^([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])$/.exec(text)
  if (match === null) throw new RangeError(`${name} must be "HH:MM:SS" (UTC), got ${JSON.stringify(text)}`)
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])
}

/** True when `nowMs` falls inside the daily window (no schedule: always). */
export function inSchedule(schedule: ResolvedFixSessionOptions['schedule'], nowMs: number): boolean {
  if (schedule === null || schedule.startSecond === schedule.endSecond) return true
  const second = Math.floor(nowMs / 1000) % 86_400
  return schedule.startSecond < schedule.endSecond
    ? second >= schedule.startSecond && second < schedule.endSecond
    : second >= schedule.startSecond || second < schedule.endSecond
}
