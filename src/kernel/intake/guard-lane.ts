/**
 * Guard 7 — lane admission: reduce-only orders go to Lane1, other new orders to Lane2. A lane at its configured depth
 * sheds the new order (LANE_FULL, retryable — the client retries with the same key). Cancels never pass here, so
 * overload can never refuse a cancel.
 */

import type { KernelParams } from '../../domain/kernel-config.ts'
import type { Lane } from '../../domain/modes.ts'
import type { PlaceBody } from '../../domain/orders.ts'
import type { KernelState } from '../state.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'

export function laneGuard(state: KernelState, input: { body: PlaceBody; params: KernelParams }): GuardResult<Lane> {
  const lane: Lane = input.body.reduce_only ? 1 : 2
  const depth = state.queues[lane].size
  const depthMax = lane === 1 ? input.params.lane1DepthMax : input.params.lane2DepthMax
  const inputs = { lane, depth, depthMax }
  if (depth >= depthMax) return failed('LANE_FULL', inputs)
  return passed(lane, inputs)
}
