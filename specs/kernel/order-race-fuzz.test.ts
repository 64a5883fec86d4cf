/**
 * Amends, cancels, OCO lists and time-to-live expiries racing venue fills, against a model venue whose reports and
 * answers arrive late and in any order (order-race-driver.ts). After every step: reserved ≤ balance, each order holds
 * its worst case (the simulation's reservation invariant), filled ≤ qty, never more booked than the venue filled, and an
 * ended order leaves its end only for Unknown (venue news contradicting it) or Filled (a late fill). Once everything is
 * delivered and read back: egress holds each order as the venue does, no OCO leg executed with its sibling still open at
 * the venue, nothing open past its time-to-live, and a replay of the log from genesis gives the live state. A failing
 * seed is named with its last steps; replay one with ORDER_RACE_SEED=<seed>, run more with ORDER_RACE_SEEDS=<count> and ORDER_RACE_STEPS=<steps>.
 */

import { describe, expect, test } from 'bun:test'
import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import type { OrderState } from '../../src/domain/states.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { applyInPlace, initialState, stateDigest } from '../../src/kernel/index.ts'
import { checkReservations } from '../simulation/invariants.ts'
import { OrderRaceDriver } from './order-race-driver.ts'

const STEPS = Number(process.env.ORDER_RACE_STEPS ?? 250)
const ONE_SEED = process.env.ORDER_RACE_SEED === undefined ? null : Number(process.env.ORDER_RACE_SEED)
/** Seeds that found a defect: 148 and 330 both OCO legs executing, the rest of the leg that fired the list left working. */
const FOUND = [148, 330]
const SEEDS = ONE_SEED === null ? [...Array.from({ length: Number(process.env.ORDER_RACE_SEEDS ?? 40) }, (_, index) => index + 1), ...FOUND] : [ONE_SEED]

const VENUE_STATES: Record<string, readonly OrderState[]> = { open: ['AckedOpen', 'Partial'], filled: ['Filled'], canceled: ['Canceled'], expired: ['Expired'] }

function stepViolations(driver: OrderRaceDriver, seen: Map<string, { status: OrderState; cumQty: Units }>): string[] {
  const h = driver.harness
  const found: string[] = []
  // An ended order venue news brings back holds its worst case again without a funds check (apply-order.ts): only
  // with no order Unknown must what is held be within what the account has.
  const unknown = [...h.state.orders.values()].some((order) => order.status === 'Unknown')
  for (const asset of ['USD', 'BTC']) {
    if (!unknown && h.reserved(asset) > h.balance(asset)) found.push(`${asset} reserved ${formatDecimal(h.reserved(asset))} > balance ${formatDecimal(h.balance(asset))}`)
  }
  found.push(...checkReservations(h.state).map((violation) => violation.message))
  for (const order of h.state.orders.values()) {
    const venueCumQty = driver.venue.get(order.orderId)?.cumQty ?? 0n
    if (order.cumQty > order.qty) found.push(`${order.orderId} filled ${formatDecimal(order.cumQty)} of ${formatDecimal(order.qty)}`)
    if (order.cumQty > venueCumQty) found.push(`${order.orderId} booked ${formatDecimal(order.cumQty)}, the venue filled ${formatDecimal(venueCumQty)}`)
    const before = seen.get(order.orderId)
    if (before !== undefined && isTerminal(before.status) && order.status !== before.status && order.status !== 'Unknown' && order.status !== 'Filled') {
      found.push(`${order.orderId} left ${before.status} for ${order.status}`)
    }
    if (before !== undefined && order.cumQty < before.cumQty) found.push(`${order.orderId} cumQty went down`)
    seen.set(order.orderId, { status: order.status, cumQty: order.cumQty })
  }
  return found
}

function endViolations(driver: OrderRaceDriver): string[] {
  const h = driver.harness
  const found: string[] = []
  for (const order of h.state.orders.values()) {
    const held = driver.venue.get(order.orderId)
    const text = `${order.orderId} is ${order.status} ${formatDecimal(order.cumQty)}/${formatDecimal(order.qty)} @ ${order.price === null ? '-' : formatDecimal(order.price)}`
    if (held === undefined) {
      if (!isTerminal(order.status) || order.cumQty !== 0n) found.push(`${text}, the venue never had it`)
      continue
    }
    const venueText = `the venue ${held.status} ${formatDecimal(held.cumQty)}/${formatDecimal(held.qty)} @ ${formatDecimal(held.price)}`
    const agrees = VENUE_STATES[held.status]?.includes(order.status) === true && order.cumQty === held.cumQty && (held.status !== 'open' || (order.qty === held.qty && order.price === held.price))
    if (!agrees) found.push(`${text}, ${venueText}`)
    if (held.status === 'open' && order.expiresAtMs !== null && order.expiresAtMs <= h.nowMs) found.push(`${text}: open at the venue past its time-to-live`)
  }
  for (const legs of driver.lists) {
    const [a, b] = legs.map((leg) => driver.venue.get(leg))
    for (const [leg, other] of [[a, b], [b, a]] as const) {
      if (leg !== undefined && leg.cumQty > 0n && other?.status === 'open') found.push(`OCO leg ${leg.orderId} executed, its sibling ${other.orderId} is still open at the venue${other.cumQty > 0n ? ' (both executed)' : ''}`)
    }
  }
  const replayed = initialState()
  h.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
  if (stateDigest(replayed) !== stateDigest(h.state)) found.push('a replay from genesis differs from the live state')
  return found
}

function firstViolation(seed: number): string | null {
  const driver = new OrderRaceDriver(seed)
  const seen = new Map<string, { status: OrderState; cumQty: Units }>()
  const named = (step: string, found: string[]): string => `seed ${seed}, ${step}: ${found.join('; ')}\n  last steps: ${driver.trace.slice(-8).join(' | ')}`
  try {
    for (let step = 0; step < STEPS; step++) {
      driver.step()
      const found = stepViolations(driver, seen)
      if (found.length > 0) return named(`step ${step}`, found)
    }
    driver.drain()
  } catch (error) {
    return named('thrown', [String(error)])
  }
  const found = [...stepViolations(driver, seen), ...endViolations(driver)]
  return found.length === 0 ? null : named('at the end', found)
}

describe('amends, cancels, OCO lists and TTL racing venue fills', () => {
  test(`egress agrees with the venue (${SEEDS.length} seeds × ${STEPS} steps)`, () => {
    const violations = SEEDS.map(firstViolation).filter((found) => found !== null)
    expect(violations).toEqual([])
  }, 120_000)
})
