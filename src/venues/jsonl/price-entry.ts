/**
 * One entry of a venue's `prices` push, read so that a venue newer than this client does not lose it its prices. The
 * entries were strict objects, like every other message (messages.ts): when the sim server added a member (`touch`,
 * then any member of the touch's), an older client dropped every entry of every push — the data-health guard saw no
 * price at all, and `connect` gave up waiting for the first one — with only a per-push VENUE_MESSAGE_INVALID line.
 *
 * A reference price is read for what it is, not acted on as a whole: the members this client reads (symbol, price,
 * observedAtMs, and the touch's bid and ask prices and sizes) are checked as strictly as before, and an entry where
 * one is missing or wrong is still dropped; members it does not know are left out of the entry and named once per
 * connection (VENUE_MEMBERS_UNKNOWN, unknown-members.ts), so the difference in versions is said, not silent. The
 * protocol's rule that makes this safe (codec.ts): a newer venue adds members to a price entry and never changes what
 * one it had means. Reports and answers stay strict: a half-understood report or answer could book a fill wrongly.
 */

import * as v from 'valibot'
import type { Units } from '../../domain/decimal.ts'
import type { BookTouch } from '../../domain/market.ts'
import { idSchema, msSchema } from '../../domain/schema-kit.ts'
import { nonNegativeBigUnitsSchema, positiveBigUnitsSchema } from '../../domain/venue-report-schema.ts'

export interface PriceEntry {
  symbol: string
  price: Units
  observedAtMs: number
  /** The best bid and offer with their visible sizes at that time; absent from a venue that shows none. */
  touch?: BookTouch
}

const TOUCH_ENTRIES = {
  bidPrice: positiveBigUnitsSchema,
  bidQty: nonNegativeBigUnitsSchema,
  askPrice: positiveBigUnitsSchema,
  askQty: nonNegativeBigUnitsSchema,
}
const touchSchema = v.looseObject(TOUCH_ENTRIES)

const ENTRY_ENTRIES = {
  symbol: idSchema,
  price: positiveBigUnitsSchema,
  observedAtMs: msSchema,
  touch: v.exactOptional(touchSchema),
}

/** A price entry's schema: the members read, checked; any others allowed (and left out by `priceEntryOf`). */
export const priceEntrySchema = v.looseObject(ENTRY_ENTRIES)

/** The entry with only the members this client reads, and the paths (`touch.levels`) of those it does not know. */
export function priceEntryOf(parsed: v.InferOutput<typeof priceEntrySchema>): { entry: PriceEntry; unknownMembers: string[] } {
  const unknownMembers = Object.keys(parsed).filter((key) => !(key in ENTRY_ENTRIES))
  const { symbol, price, observedAtMs, touch } = parsed
  const entry: PriceEntry = { symbol, price, observedAtMs }
  if (touch !== undefined) {
    for (const key of Object.keys(touch)) if (!(key in TOUCH_ENTRIES)) unknownMembers.push(`touch.${key}`)
    entry.touch = { bidPrice: touch.bidPrice, bidQty: touch.bidQty, askPrice: touch.askPrice, askQty: touch.askQty }
  }
  return { entry, unknownMembers }
}
