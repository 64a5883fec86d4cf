/**
 * The kernel's own records (its configuration, retirement and hold rules), the trading mode and kill switches an operator
 * sets, and an account's funding and flatten requests: records about the whole gateway or an account, not one order.
 * Part of EVENT_SCHEMAS (schemas.ts), in its key order: a binary layout follows the member order.
 */

import * as v from 'valibot'
import { kernelConfigSchema } from '../kernel-config.ts'
import { KILL_SWITCH_ACTIONS, TRADING_SWITCHES } from '../modes.ts'
import { idSchema, unitsSchema } from '../schema-kit.ts'
import { modeSchema, reasonCodeSchema } from './common.ts'
import { attribution, base, countFromOneSchema, traceparent } from './record-parts.ts'

export const CONTROL_EVENT_SCHEMAS = {
  'kernel.configured': v.strictObject({ type: v.literal('kernel.configured'), ...base, config: kernelConfigSchema }),
  // The retirement rule the kernel follows from this record on (src/kernel/retention.ts).
  'kernel.retire_rule_adopted': v.strictObject({ type: v.literal('kernel.retire_rule_adopted'), ...base, rule: countFromOneSchema }),
  // The hold rule the kernel and the back office follow from this record on (src/kernel/reservations.ts HOLD_RULE_SYNTHETIC).
  'kernel.hold_rule_adopted': v.strictObject({ type: v.literal('kernel.hold_rule_adopted'), ...base, rule: countFromOneSchema }),
  'mode.changed': v.strictObject({ type: v.literal('mode.changed'), ...base, mode: modeSchema, principalId: v.string(), note: v.string(), ...attribution }),
  'switch.changed': v.strictObject({
    type: v.literal('switch.changed'),
    ...base,
    action: v.picklist(KILL_SWITCH_ACTIONS),
    switch: v.picklist(TRADING_SWITCHES),
    principalId: v.string(),
    note: v.string(),
    ...attribution,
  }),
  'account.funded': v.strictObject({
    type: v.literal('account.funded'),
    ...base,
    accountId: idSchema,
    asset: idSchema,
    /** Signed: a negative amount withdraws. */
    amount: unitsSchema,
    reference: v.string(),
    // Payload version 12: who funded it (an operator, or the start's funding from config: egress-bootstrap), with the
    // config and build (record-parts.ts attribution). Absent in older records.
    principalId: v.exactOptional(v.string()),
    ...attribution,
  }),
  'account.flatten_requested': v.strictObject({
    type: v.literal('account.flatten_requested'),
    ...base,
    accountId: idSchema,
    flattenId: idSchema,
    principalId: v.string(),
    traceparent,
    // The flatten's first answer, which a repeat of it answers (src/kernel/flatten-held.ts): the holdings it could not
    // close (flatten-uncovered.ts) and the records its decision wrote, this one first (the answer's lsn is the last's).
    // Absent in records written before payload version 11: such a flatten holds no answer, its repeat is decided again.
    // A holding's reason (payload version 12, flatten-close-sizes.ts): what the closes left of an instrument's holding
    // and why; absent, no instrument trades the asset (INSTRUMENT_UNKNOWN, all a version 11 record names).
    notClosed: v.exactOptional(v.array(v.strictObject({ asset: idSchema, qty: unitsSchema, reason: v.exactOptional(reasonCodeSchema) }))),
    records: v.exactOptional(countFromOneSchema),
    ...attribution,
  }),
  // One account's kill switch (src/kernel/account-switch.ts): the auto-stop's order_rate breaker with scope `account`
  // engages it for the account whose rate it tripped on; an operator's RESUME of the account (or a global RESUME) lifts
  // it. The same members as switch.changed, and the account it stops (seed 004 §9: accounts apart). Payload version 13:
  // the config digest and build it was decided under (record-parts.ts attribution), as switch.changed has from 12.
  'account.switch_changed': v.strictObject({
    type: v.literal('account.switch_changed'),
    ...base,
    accountId: idSchema,
    action: v.picklist(KILL_SWITCH_ACTIONS),
    switch: v.picklist(TRADING_SWITCHES),
    principalId: v.string(),
    note: v.string(),
    ...attribution,
  }),
} as const
