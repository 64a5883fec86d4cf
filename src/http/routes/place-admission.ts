/**
 * Whether a new order may go to the kernel, and what it costs the client's rate buckets (POST /v1/orders).
 *
 * Five answers, in this order:
 * - a repeat of a key the kernel already decided is admitted free: it is answered with the first decision and creates
 *   no work, so it spends no rate token and holds no in-flight slot (a client retrying after a lost 202 while at its
 *   rate limit gets its 202 back instead of 429). What such repeats may hold — an answer waiting for the log — has
 *   the engine's own bound (durabilityWaitersMax, 429 past it). A repeat passes a low disk too: it writes nothing.
 * - a data dir below its free-space floor (http/disk/) refuses it with DISK_LOW, before anything is recorded or a
 *   token taken: new risk stops before a failed write ends the process.
 * - an account the gateway knows nothing of is refused with POLICY_MISSING, the code the kernel's policy guard gives
 *   it, before a rate bucket is made for it or anything is written (`accountKnown`). The `accounts` claim of a token
 *   is the issuer's word, not the gateway's: left to the kernel, each made-up account got a bucket of its own (so one
 *   token spread its orders over as many full buckets as it could name) and each order an `order.rejected` record.
 * - the kernel's load bounds (a full lane, LANE_FULL; the account's share of the lanes, OVERLOADED), read from its
 *   state with the lane guard's own rule (kernel shedReason), shed here before a token is taken or anything is
 *   written. The kernel would refuse the order the same way in this same tick (the decision is synchronous), but it
 *   would record an `order.rejected` per refusal: a client retrying against a full lane would then write to the log
 *   at whatever rate it liked, since a load refusal must not cost it a rate token (it did no work). The refusal is
 *   not remembered under the key either way, so a retry with the same key is decided afresh and can be accepted.
 * - otherwise the load shedder (account and bot buckets, the in-flight bound) decides; its tokens go back if the
 *   kernel or the log refuses the order for load after all without writing it (`isKernelLoadRefusal`, `refusedUndone`).
 */

import type { Principal } from '../auth/index.ts'
import type { Admission } from '../backpressure/index.ts'
import { diskLowError, type DiskRefusal } from '../disk/index.ts'
import { FLATTEN_KEY_PREFIX, idempotencyIndexKey, orderIdFor, shedReason, type KernelState } from '../../kernel/index.ts'
import { instrumentKey } from '../../domain/instruments.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import { ApiError, reasonError } from '../errors.ts'
import type { Services } from '../services.ts'
import { admitFor, shedError } from './support.ts'

/** The kernel's load refusals: retryable, answered 429 with Retry-After. */
const KERNEL_LOAD_REASONS: ReadonlySet<ReasonCode> = new Set(['LANE_FULL', 'OVERLOADED'])

export type PlaceAdmission =
  | Admission
  | { ok: false; kernel: { reason: ReasonCode; orderId: string } }
  | { ok: false; unknownAccount: string }
  | { ok: false; disk: DiskRefusal }
  | { ok: false; standby: string }

/** What admission reads of the order (or of a list's first leg): the parsed body's own members, passed as they are. */
export interface PlaceLeg {
  reduce_only: boolean
  venue: string
  symbol: string
}

/**
 * `known`: the caller found the request a repeat by more than its key (a list: its list key, or a leg's other key),
 * which writes nothing and is admitted as one.
 */
export function admitPlace(services: Services, principal: Principal, account: string, idempotencyKey: string, leg: PlaceLeg, known = false): PlaceAdmission {
  const { state } = services.gateway.engine
  if (known || state.idempotency.has(idempotencyIndexKey(account, idempotencyKey))) return REPEAT_ADMISSION
  // After the repeat check: a repeat writes nothing and is answered as the first was (under fail_closed, held for the
  // standby: REPLICATION_UNCONFIRMED with its answer). Refused up front, it said "nothing was written" of a key whose
  // order is in the log, and a client retrying under a new key then had two orders (review).
  const standby = standbyRefusal(services)
  if (standby !== null) return { ok: false, standby }
  const disk = services.disk.refusal()
  if (disk !== null) return { ok: false, disk }
  if (!accountKnown(state, account)) return { ok: false, unknownAccount: account }
  const params = state.config?.params
  if (params !== undefined) {
    const reason = shedReason(state, { lane: leg.reduce_only ? 1 : 2, accountId: account, params })
    if (reason !== null) return { ok: false, kernel: { reason, orderId: orderIdFor(state, account, idempotencyKey, services.gateway.clock.nowMs()) } }
  }
  // Only an instrument the gateway trades has a bucket: one it does not is refused by the kernel (INSTRUMENT_UNKNOWN),
  // and made-up symbols must not fill the bucket table the real ones share. Its key is made only when symbols have buckets.
  let instrument: string | null = null
  if (services.shedder.limitsSymbols) {
    instrument = instrumentKey(leg.venue, leg.symbol)
    if (!state.instruments.has(instrument)) instrument = null
  }
  return admitFor(services, account, principal, instrument)
}

/**
 * The admission of a new order (POST /v1/orders) or list (/v1/order-lists, admitted once with its first leg) when it
 * passed; else the error its refusal is answered with, a shed counted in the metrics.
 */
export function requireAdmitted(services: Services, admission: PlaceAdmission): Extract<PlaceAdmission, { ok: true }> {
  if (admission.ok) return admission
  if ('standby' in admission) throw standbyUnavailable(admission.standby)
  if ('disk' in admission) throw diskLowError('new orders', admission.disk)
  // What the kernel's policy guard would have answered (the same code and status), without its record or an order id.
  if ('unknownAccount' in admission) throw reasonError('POLICY_MISSING', { details: { account: admission.unknownAccount, guard: 'policy' } })
  if ('kernel' in admission) {
    services.metrics.countShed('place', admission.kernel.reason === 'LANE_FULL' ? 'kernel_lane' : 'kernel_account')
    throw reasonError(admission.kernel.reason, { details: { order_id: admission.kernel.orderId, guard: 'lane' } })
  }
  services.metrics.countShed('place', admission.scope)
  throw shedError('new orders', admission)
}

/**
 * Why new risk must be refused before anything is written (HA, fail_closed, the standby gone: src/runtime/ha/sync.ts),
 * or null: on a single node, without synchronous replication, or with the standby in sync.
 */
export function standbyRefusal(services: Services): string | null {
  return services.ha?.sync?.refusal() ?? null
}

/** 503 STANDBY_UNAVAILABLE: this request wrote nothing. */
export function standbyUnavailable(refusal: string): ApiError {
  return new ApiError('STANDBY_UNAVAILABLE', refusal, { headers: { 'Retry-After': '1' } })
}

/** A new order's (or list's, or leg's) key may not start with flatten's prefix: its closing orders use those keys. */
export function refuseReservedKey(idempotencyKey: string): void {
  if (!idempotencyKey.startsWith(FLATTEN_KEY_PREFIX)) return
  throw new ApiError('IDEMPOTENCY_KEY_RESERVED', `an idempotency key may not start with ${FLATTEN_KEY_PREFIX}: flatten's closing orders use those keys`, {
    details: { idempotency_key: idempotencyKey, reserved_prefix: FLATTEN_KEY_PREFIX },
  })
}

/**
 * True when the kernel's reply refuses the order for load and the command wrote nothing (`lsn` null): the shedder's
 * tokens then go back. A refusal the kernel recorded keeps them: at the cap on keys held (OVERLOADED, not shed here:
 * its record moves the key window on) each refusal is an `order.rejected`, and given back its token a client wrote
 * them as fast as it could send (review).
 */
export function isKernelLoadRefusal(reply: { kind: string; reason?: ReasonCode }, lsn: number | null): boolean {
  return lsn === null && reply.kind === 'rejected' && reply.reason !== undefined && KERNEL_LOAD_REASONS.has(reply.reason)
}

/**
 * Whether the kernel knows `accountId`: it has a policy (config `accounts`, recorded in `kernel.configured`) or a
 * ledger (funded at some start; an account since removed from the config keeps its balances and positions). Accounts
 * enter the kernel no other way: funding is bootstrap's, from the config, and the sim venue and the back office
 * follow the log. An account with a ledger but no policy any more still goes to the kernel, which refuses it with a
 * recorded POLICY_MISSING: those accounts are few (the config once named each), and an attempt to trade a retired
 * account is worth its audit record. Only names the gateway never held are refused unrecorded, as a token without
 * the account in its claim is (403 FORBIDDEN).
 */
export function accountKnown(state: KernelState, accountId: string): boolean {
  return state.policies.has(accountId) || state.accounts.has(accountId)
}

const REPEAT_ADMISSION: Admission = { ok: true, release: () => {}, refund: () => {} }
