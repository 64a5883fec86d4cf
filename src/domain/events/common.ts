/**
 * Sub-schemas shared by several event schemas: decision records, gate verdicts, execution reports and dictionaries.
 */

import * as v from 'valibot'
import { GATE_ACTIONS, GATE_CHECKS } from '../gate.ts'
import { GUARD_NAMES } from '../guards.ts'
import { LANES, MODES } from '../modes.ts'
import { REASON_CODES } from '../reasons.ts'
import { idSchema, msSchema, nonNegativeUnitsSchema, positiveUnitsSchema, sideSchema, unitsSchema } from '../schema-kit.ts'
import { ORDER_STATES } from '../states.ts'

export const reasonCodeSchema = v.picklist(REASON_CODES)
export const orderStateSchema = v.picklist(ORDER_STATES)
export const modeSchema = v.picklist(MODES)
export const laneSchema = v.picklist(LANES)

const guardInputValueSchema = v.union([v.string(), v.number(), v.boolean(), v.null()])

export const guardRecordSchema = v.strictObject({
  guard: v.picklist(GUARD_NAMES),
  outcome: v.picklist(['pass', 'fail']),
  reason: v.exactOptional(reasonCodeSchema),
  inputs: v.record(v.string(), guardInputValueSchema),
})

export const decisionRecordSchema = v.strictObject({
  principalId: v.string(),
  roles: v.array(v.string()),
  configDigest: v.string(),
  buildCommit: v.string(),
  nowMs: msSchema,
  guards: v.array(guardRecordSchema),
})

export const gateVerdictSchema = v.strictObject({
  action: v.picklist(GATE_ACTIONS),
  mode: modeSchema,
  pass: v.boolean(),
  sendAllowed: v.boolean(),
  checks: v.array(
    v.strictObject({
      check: v.picklist(GATE_CHECKS),
      applies: v.boolean(),
      pass: v.boolean(),
      detail: v.string(),
    }),
  ),
})

/** The adapter's ExecutionReport (src/venues/adapter.ts), as the inbox records it. */
export const executionReportSchema = v.strictObject({
  venue: idSchema,
  execId: v.string(),
  kind: v.picklist(['new', 'fill', 'canceled', 'rejected', 'expired', 'replaced', 'cancel_rejected']),
  clientOrderId: v.string(),
  origClientOrderId: v.exactOptional(v.string()),
  venueOrderId: v.string(),
  account: v.string(),
  symbol: v.string(),
  side: sideSchema,
  cumQty: nonNegativeUnitsSchema,
  lastQty: v.exactOptional(positiveUnitsSchema),
  lastPrice: v.exactOptional(positiveUnitsSchema),
  fee: v.exactOptional(unitsSchema),
  feeAsset: v.exactOptional(v.string()),
  liquidity: v.exactOptional(v.picklist(['maker', 'taker'])),
  reason: v.exactOptional(v.string()),
  venueTimeMs: msSchema,
})
