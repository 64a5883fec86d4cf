/**
 * The golden trace file format (specs/golden/traces/*.json), as a valibot schema so a typo in a trace fails loudly
 * instead of silently checking nothing. A trace is a script of inputs (steps) and the outcome they must produce
 * (`check` steps and the final `expect`). See README.md for what each field means.
 */

import * as v from 'valibot'

const amount = v.pipe(v.string(), v.regex(/^-?\d+(\.\d{1,8})?$/, 'expected a decimal string'))
const ref = v.pipe(v.string(), v.minLength(1))

/** An expected event sequence: rendered event names (see render.ts), or a repeated group of them. */
export type EventPattern = string | { repeat: EventPattern[]; min?: number | undefined }
const eventPattern: v.GenericSchema<EventPattern> = v.union([
  v.string(),
  v.strictObject({ repeat: v.array(v.lazy(() => eventPattern)), min: v.optional(v.number()) }),
])

const replyExpect = v.variant('reply', [
  v.strictObject({ reply: v.literal('accepted'), duplicate: v.optional(v.boolean()) }),
  v.strictObject({
    reply: v.literal('rejected'),
    reason: v.string(),
    guard: v.string(),
    /** Guards the decision record lists, in order (`name:pass` / `name:fail`): the audit of the refusal. */
    guards: v.optional(v.array(v.string())),
    duplicate: v.optional(v.boolean()),
  }),
  v.strictObject({ reply: v.literal('conflict') }),
  v.strictObject({ reply: v.literal('amend_accepted'), duplicate: v.optional(v.boolean()) }),
  v.strictObject({ reply: v.literal('done') }),
  /** A flatten's repeat: its first answer, nothing decided (src/kernel/flatten-held.ts). */
  v.strictObject({ reply: v.literal('flatten_repeat') }),
  v.strictObject({ reply: v.literal('refused'), reason: v.string() }),
])
export type ReplyExpect = v.InferOutput<typeof replyExpect>

const reconciledExpect = v.strictObject({ to: v.string(), reason: v.string(), venueStatus: v.string(), notAtVenue: v.boolean() })

export const orderExpectSchema = v.strictObject({
  state: v.string(),
  qty: v.optional(amount),
  price: v.optional(v.nullable(amount)),
  cumQty: v.optional(amount),
  tif: v.optional(v.string()),
  lane: v.optional(v.number()),
  reduceOnly: v.optional(v.boolean()),
  lastReason: v.optional(v.nullable(v.string())),
  notAtVenue: v.optional(v.boolean()),
  cancelWanted: v.optional(v.boolean()),
  /** Whether egress knows the venue's order id (from an ack, a report or reconciliation). */
  venueOrderIdKnown: v.optional(v.boolean()),
  reservation: v.optional(v.strictObject({ asset: v.optional(v.string()), total: v.optional(amount), remaining: amount })),
  /** Venue orders carrying this order's client id (the sim's own ledger); the at-most-one invariant is always checked. */
  venueOrders: v.optional(v.number()),
  /** Status of that venue order in the sim's ledger. */
  venueStatus: v.optional(v.string()),
  /** The whole sequence of log records about this order, rendered (render.ts). */
  events: v.optional(v.array(eventPattern)),
  /** The order's `order.reconciled` records, in order. */
  reconciled: v.optional(v.array(reconciledExpect)),
})
export type OrderExpect = v.InferOutput<typeof orderExpectSchema>

const accountExpect = v.strictObject({
  balances: v.optional(v.record(v.string(), amount)),
  /** Held by open orders; an asset not listed must hold nothing. */
  reserved: v.optional(v.record(v.string(), amount)),
})

const outcomeExpect = {
  orders: v.optional(v.record(v.string(), orderExpectSchema)),
  accounts: v.optional(v.record(v.string(), accountExpect)),
  tradingSwitch: v.optional(v.string()),
  mode: v.optional(v.string()),
  counters: v.optional(v.strictObject({ duplicateReportsDropped: v.optional(v.number()), alertsRaised: v.optional(v.number()), transitionsRefused: v.optional(v.number()) })),
  /** Reasons of every alert.raised in the log, in order. */
  alerts: v.optional(v.array(v.string())),
  venue: v.optional(
    v.strictObject({
      orders: v.optional(v.number()),
      placeCalls: v.optional(v.number()),
      cancelCalls: v.optional(v.number()),
      amendCalls: v.optional(v.number()),
      throttledMin: v.optional(v.number()),
      duplicatePlaces: v.optional(v.number()),
      reportsDuplicated: v.optional(v.number()),
      reportsReordered: v.optional(v.number()),
      reportsDropped: v.optional(v.number()),
    }),
  ),
}

const principal = v.strictObject({
  id: v.string(),
  roles: v.array(v.picklist(['trader', 'bot', 'ops', 'auditor', 'admin'])),
  accounts: v.array(v.string()),
  liveAllowed: v.boolean(),
})

const as = v.string()
const bootstrapExpect = v.strictObject({
  inFlightMarkedUnknown: v.optional(v.number()),
  openOrdersReconciled: v.optional(v.number()),
  unknownAfterWait: v.optional(v.number()),
  resent: v.optional(v.array(ref)),
})

const command = [
  v.strictObject({
    do: v.literal('place'),
    as,
    ref: v.optional(ref),
    body: v.unknown(),
    key: v.optional(v.string()),
    expect: v.optional(replyExpect),
  }),
  v.strictObject({ do: v.literal('cancel'), as, order: ref, expect: v.optional(replyExpect) }),
  v.strictObject({ do: v.literal('amend'), as, order: ref, body: v.unknown(), expect: v.optional(replyExpect) }),
  v.strictObject({ do: v.literal('killSwitch'), as, action: v.picklist(['HALT', 'CANCEL_ONLY', 'RESUME']), expect: v.optional(replyExpect) }),
  v.strictObject({ do: v.literal('setMode'), as, mode: v.picklist(['paper', 'shadow', 'live']), expect: v.optional(replyExpect) }),
  v.strictObject({ do: v.literal('flatten'), as, account: v.string(), flattenId: v.string(), expect: v.optional(replyExpect) }),
] as const
const commandStep = v.variant('do', [...command])
export type CommandStep = v.InferOutput<typeof commandStep>

const step = v.variant('do', [
  ...command,
  /** Issues its commands in one instant, each before the previous one's ACK (so the executor runs in between none). */
  v.strictObject({ do: v.literal('together'), steps: v.array(commandStep) }),
  /** Names the flatten close order of `flattenId` on `symbol` as `ref`. */
  v.strictObject({ do: v.literal('bindClose'), ref, flattenId: v.string(), symbol: v.string() }),
  v.strictObject({ do: v.literal('faults'), faults: v.record(v.string(), v.unknown()) }),
  v.strictObject({ do: v.literal('price'), symbol: v.string(), price: amount }),
  v.strictObject({ do: v.literal('run'), ms: v.number() }),
  v.strictObject({ do: v.literal('crash') }),
  v.strictObject({ do: v.literal('restart'), expectBootstrap: v.optional(bootstrapExpect) }),
  v.strictObject({ do: v.literal('check'), note: v.optional(v.string()), ...outcomeExpect }),
])
export type Step = v.InferOutput<typeof step>

export const traceSchema = v.strictObject({
  /** What the trace shows and why the expected outcome is right (the hand check, in words). */
  summary: v.string(),
  spec: v.optional(v.string()),
  /** Runtime features the trace needs; it is skipped (and says so) while one is missing. */
  seed: v.number(),
  /** SimVenue options (latency, partial fills, price walk …). */
  venue: v.optional(v.record(v.string(), v.unknown())),
  faults: v.optional(v.record(v.string(), v.unknown())),
  params: v.optional(v.record(v.string(), v.number())),
  config: v.optional(
    v.strictObject({
      /** Per-account patches of the paper policy. */
      policies: v.optional(v.record(v.string(), v.record(v.string(), v.unknown()))),
      /** Per instrument key (`sim:BTC-USD`) patches of the kernel's instrument. */
      instruments: v.optional(v.record(v.string(), v.record(v.string(), v.unknown()))),
      /** Instruments the kernel knows but the sim venue does not trade (so it has no reference price). */
      addInstruments: v.optional(v.array(v.strictObject({ like: v.string(), symbol: v.string(), baseAsset: v.string() }))),
    }),
  ),
  principals: v.optional(v.record(v.string(), principal)),
  steps: v.array(step),
  expect: v.strictObject({ ...outcomeExpect, unknownLeft: v.optional(v.number()) }),
})
export type Trace = v.InferOutput<typeof traceSchema>
export type OutcomeExpect = Omit<Extract<Step, { do: 'check' }>, 'do' | 'note'>
