/**
 * Config `autoStop`: the circuit breakers that engage the kill switch by themselves when the running gateway misbehaves
 * (seed 004 §8, rollout with automatic stop; src/runtime/auto-stop.ts). Each breaker is off unless its object is given;
 * every field inside has a default, so `"venueRejects": {}` turns that breaker on as documented. The section has no
 * default value (schema.ts), so a config without it keeps its digest.
 *
 * A breaker trips when its figure is strictly above its threshold: a threshold is the most the gateway tolerates.
 */

import * as v from 'valibot'
import type { KillSwitchAction } from '../domain/modes.ts'

function integerIn(min: number, max: number) {
  const message = `expected an integer between ${min} and ${max}`
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message))
}

/** The kill switch a breaker engages: the actions of `POST /v1/admin/halt` and `/cancel-only` (as audit.tamperResponse). */
export const AUTO_STOP_ACTIONS = ['HALT', 'CANCEL_ONLY'] as const satisfies readonly KillSwitchAction[]
const ACTION = v.optional(v.picklist(AUTO_STOP_ACTIONS, 'expected "HALT" or "CANCEL_ONLY"'), 'HALT')
const WINDOW_MS = v.optional(integerIn(1_000, 3_600_000), 60_000)
const SAMPLES_MIN = v.optional(integerIn(1, 1_000_000), 20)

export const ORDER_RATE_SCOPES = ['account', 'all'] as const

export const AUTO_STOP = v.strictObject({
  /** How often the Unknown-order breaker counts; the other breakers decide as each answer or order comes. */
  evaluateEveryMs: v.optional(integerIn(100, 600_000), 1_000),
  /** A venue rejecting the places it is sent: the share of its answers to places that were rejects, per venue. */
  venueRejects: v.optional(
    v.strictObject({
      windowMs: WINDOW_MS,
      /** Fewer answers than this in the window is no evidence (1 reject of 1 answer does not trip). */
      samplesMin: SAMPLES_MIN,
      /** Trips when rejects are more than this percentage of the answers. */
      rejectPctMax: v.optional(integerIn(0, 99), 50),
      action: ACTION,
    }),
  ),
  /** Orders piling up Unknown: more than ordersMax orders Unknown for at least dwellMs. */
  unknownOrders: v.optional(
    v.strictObject({
      ordersMax: v.optional(integerIn(0, 1_000_000), 10),
      dwellMs: v.optional(integerIn(0, 86_400_000), 30_000),
      action: ACTION,
    }),
  ),
  /** A runaway bot: more than ordersMax new orders accepted within windowMs, per account or over all accounts. */
  orderRate: v.optional(
    v.strictObject({
      windowMs: v.optional(integerIn(1_000, 3_600_000), 10_000),
      ordersMax: v.optional(integerIn(1, 10_000_000), 1_000),
      scope: v.optional(v.picklist(ORDER_RATE_SCOPES, 'expected "account" or "all"'), 'account'),
      action: ACTION,
    }),
  ),
  /** An SLO breaker: a venue's answers to places, cancels and amends slower than p99MsMax at the 99th percentile. */
  ackLatency: v.optional(
    v.strictObject({
      windowMs: WINDOW_MS,
      /**
       * Fewer calls than this in the window is no evidence. 100 by default: the nearest-rank p99 of fewer than 100 calls
       * is their slowest, so with 20 a single slow call among 20 would halt trading.
       */
      samplesMin: v.optional(integerIn(1, 1_000_000), 100),
      p99MsMax: v.optional(integerIn(1, 600_000), 2_000),
      action: ACTION,
    }),
  ),
})

export type AutoStopConfig = v.InferOutput<typeof AUTO_STOP>
