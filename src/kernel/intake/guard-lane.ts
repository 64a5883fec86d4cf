/**
 * Guard 7 — lane admission: reduce-only orders go to Lane1, other new orders and amends to Lane2. Two bounds shed
 * work, both retryable (the client retries with the same key): a lane at its configured depth (LANE_FULL), and one
 * account with as much Lane1/Lane2 work waiting as it may have (OVERLOADED), so one client cannot fill the lanes for
 * everyone. A third refuses a new order while the index of idempotency keys is at its cap (OVERLOADED; key-window.ts).
 * Cancels never pass here, so overload can never refuse a cancel.
 */

import type { KernelParams } from '../../domain/kernel-config.ts'
import type { Lane } from '../../domain/modes.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import type { KernelState } from '../state.ts'
import { keysCapReached } from '../key-window.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'

export type AdmissionLane = 1 | 2

export function laneGuard(state: KernelState, input: { lane: AdmissionLane; accountId: string; params: KernelParams; newKeyAtMs?: number }): GuardResult<Lane> {
  const { lane, params } = input
  const depth = state.queues[lane].size
  const depthMax = lane === 1 ? params.lane1DepthMax : params.lane2DepthMax
  const accountQueued = state.queuedByAccount.get(input.accountId) ?? 0
  const inputs = { lane, depth, depthMax, accountQueued, accountQueuedMax: params.accountQueuedMax }
  const shed = shedReason(state, input)
  if (shed !== null) return failed(shed, inputs)
  // The cap on idempotency keys held: not a shed (HTTP never refuses for it), so each refusal is recorded and its
  // apply moves the key window on (key-window.ts), which is what frees keys while every new order is refused.
  // An amend (no newKeyAtMs) takes no key.
  const keysHeldMax = input.newKeyAtMs === undefined ? null : keysCapReached(state, input.newKeyAtMs)
  if (keysHeldMax !== null) return failed('OVERLOADED', { ...inputs, keysHeld: state.idempotency.size, keysHeldMax })
  return passed(lane, inputs)
}

/**
 * The admission verdict alone, for the HTTP layer to shed before it appends anything (429 with Retry-After): the same
 * bounds the lane guard applies, read from the state. Null when the work would be admitted.
 */
export function shedReason(state: KernelState, input: { lane: AdmissionLane; accountId: string; params: KernelParams }): ReasonCode | null {
  const depthMax = input.lane === 1 ? input.params.lane1DepthMax : input.params.lane2DepthMax
  if (state.queues[input.lane].size >= depthMax) return 'LANE_FULL'
  if ((state.queuedByAccount.get(input.accountId) ?? 0) >= input.params.accountQueuedMax) return 'OVERLOADED'
  return null
}
