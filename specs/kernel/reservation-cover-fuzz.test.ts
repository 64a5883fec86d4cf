/**
 * What open orders hold never passes what the account has (reservation-cover-driver.ts): under seeded random traffic
 * whose fills each cost no more than their order holds for them, reserved ≤ balance for every asset at every step,
 * each order holds its worst case (the simulation's reservation invariant), and a replay of the log from genesis
 * gives the live state. The simulation checks the held amounts against the orders, not against the balance, so an
 * order admitted against a position another order still holds went unseen there: seeds 4, 29 and 32 caught a
 * flatten closing the position of a sell that was still held (flatten-sent-before.test.ts). A failing seed is named
 * with its last steps; replay one with RESERVATION_COVER_SEED=<seed>.
 */

import { describe, expect, test } from 'bun:test'
import { applyInPlace, initialState, stateDigest } from '../../src/kernel/index.ts'
import { checkReservations } from '../simulation/invariants.ts'
import { ReservationCoverDriver } from './reservation-cover-driver.ts'

const STEPS = 300
const ONE_SEED = process.env.RESERVATION_COVER_SEED === undefined ? null : Number(process.env.RESERVATION_COVER_SEED)
const SEEDS = ONE_SEED === null ? Array.from({ length: 40 }, (_, index) => index + 1) : [ONE_SEED]

function firstViolation(seed: number): string | null {
  const driver = new ReservationCoverDriver(seed)
  for (let step = 0; step < STEPS; step++) {
    driver.step()
    const overcommitted = driver.overcommitted()
    const held = checkReservations(driver.harness.state).map((violation) => violation.message)
    const found = overcommitted ?? (held.length > 0 ? held.join('; ') : null)
    if (found !== null) return `seed ${seed}, step ${step}: ${found}\n  last steps: ${driver.trace.slice(-6).join(' | ')}`
  }
  const replayed = initialState()
  driver.harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
  return stateDigest(replayed) === stateDigest(driver.harness.state) ? null : `seed ${seed}: a replay from genesis differs from the live state`
}

describe('reservations under random traffic', () => {
  test(`reserved never passes the balance (${SEEDS.length} seeds × ${STEPS} steps)`, () => {
    const violations = SEEDS.map(firstViolation).filter((found) => found !== null)
    expect(violations).toEqual([])
  }, 60_000)
})
