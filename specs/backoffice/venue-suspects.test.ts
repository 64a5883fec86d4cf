import { describe, expect, test } from 'bun:test'
import type { Observation } from '../../src/backoffice/internal-checks.ts'
import { VENUE_SUSPECT_BOUNDS, VenueSuspects } from '../../src/backoffice/venue-suspects.ts'

const balance: Observation = { key: 'venue_balances:sim:a:USD', check: 'venue_balances', what: 'traded balance', expected: '0', actual: '1' }
const kernel: Observation = { key: 'ledger_vs_kernel:balance:a:USD', check: 'ledger_vs_kernel', what: 'balance', expected: '0', actual: '1' }
/** The same key with other amounts: what more fills arriving between two runs look like. */
const moved = (step: number): Observation => ({ ...balance, expected: String(step), actual: String(step + 1 + step) })

describe('venue suspects', () => {
  test('an internal difference is a break at once; a stable venue one when the next run of its check sees it again, dated from the first', () => {
    const suspects = new VenueSuspects()
    expect(suspects.confirmedSinceMs(kernel, 10, { inFlight: false })).toBe(10)
    expect(suspects.confirmedSinceMs(balance, 10, { inFlight: false })).toBeNull()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances', 'ledger_vs_kernel'], observations: [balance, kernel] })
    expect(suspects.confirmedSinceMs(balance, 20, { inFlight: false })).toBe(10)
  })

  test('seen, then not seen by a run of its check: it starts over', () => {
    const suspects = new VenueSuspects()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances'], observations: [balance] })
    suspects.noteRun({ atMs: 20, ran: ['venue_balances'], observations: [] })
    expect(suspects.confirmedSinceMs(balance, 30, { inFlight: false })).toBeNull()
    suspects.noteRun({ atMs: 30, ran: ['venue_balances'], observations: [balance] })
    expect(suspects.confirmedSinceMs(balance, 40, { inFlight: false })).toBe(30)
  })

  test('a run that skipped the check (its venue did not answer) keeps what the check saw before', () => {
    const suspects = new VenueSuspects()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances'], observations: [balance] })
    suspects.noteRun({ atMs: 20, ran: ['ledger_vs_kernel'], observations: [] })
    expect(suspects.confirmedSinceMs(balance, 30, { inFlight: false })).toBe(10)
  })

  test('a check skipped for another venue only still ran for this one: a difference first seen meanwhile opens a break at its second sighting', () => {
    // Venue "down" does not answer its balances: the run counts venue_balances as not run (its breaks stay as they
    // are), but the sim venue's balances were compared. Before, such a difference was never remembered and stayed a
    // suspect for as long as the other venue was down.
    const suspects = new VenueSuspects()
    const skippedVenues = new Map([['venue_balances' as const, new Set(['down'])]])
    const down: Observation = { ...balance, key: 'venue_balances:down:a:USD' }
    suspects.noteRun({ atMs: 0, ran: ['venue_balances'], observations: [down] })
    suspects.noteRun({ atMs: 10, ran: [], observations: [balance], skippedVenues })
    expect(suspects.confirmedSinceMs(balance, 20, { inFlight: false })).toBe(10)
    // The skipped venue's suspects are kept as they were; the answering venue's unseen keys are dropped.
    expect(suspects.confirmedSinceMs(down, 20, { inFlight: false })).toBe(0)
    suspects.noteRun({ atMs: 20, ran: [], observations: [], skippedVenues })
    expect(suspects.confirmedSinceMs(balance, 30, { inFlight: false })).toBeNull()
    expect(suspects.confirmedSinceMs(down, 30, { inFlight: false })).toBe(0)
  })

  test('a difference whose amounts moved since the last run is still a suspect: fills arriving look like that', () => {
    const suspects = new VenueSuspects()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances'], observations: [moved(1)] })
    expect(suspects.confirmedSinceMs(moved(2), 20, { inFlight: false })).toBeNull()
    suspects.noteRun({ atMs: 20, ran: ['venue_balances'], observations: [moved(2)] })
    // Once it stands still (and no young trade explains it), it is a break, dated from its first sighting.
    expect(suspects.confirmedSinceMs(moved(2), 30, { inFlight: false })).toBe(10)
  })

  test('a stable difference that venue trades in flight explain is still a suspect', () => {
    const suspects = new VenueSuspects()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances'], observations: [balance] })
    expect(suspects.confirmedSinceMs(balance, 20, { inFlight: true })).toBeNull()
    expect(suspects.confirmedSinceMs(balance, 20, { inFlight: false })).toBe(10)
  })

  test(`a difference that keeps changing opens a break at its ${VENUE_SUSPECT_BOUNDS.sightingsMax}th sighting in a row`, () => {
    const suspects = new VenueSuspects()
    for (let step = 1; step < VENUE_SUSPECT_BOUNDS.sightingsMax; step++) {
      const atMs = step * 10
      expect(suspects.confirmedSinceMs(moved(step), atMs, { inFlight: true })).toBeNull()
      suspects.noteRun({ atMs, ran: ['venue_balances'], observations: [moved(step)] })
    }
    const last = VENUE_SUSPECT_BOUNDS.sightingsMax
    expect(suspects.confirmedSinceMs(moved(last), last * 10, { inFlight: true })).toBe(10)
  })

  test(`a difference seen continuously for ${VENUE_SUSPECT_BOUNDS.spanMsMax} ms opens a break, however few runs saw it`, () => {
    const suspects = new VenueSuspects()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances'], observations: [moved(1)] })
    expect(suspects.confirmedSinceMs(moved(2), 10 + VENUE_SUSPECT_BOUNDS.spanMsMax - 1, { inFlight: true })).toBeNull()
    expect(suspects.confirmedSinceMs(moved(2), 10 + VENUE_SUSPECT_BOUNDS.spanMsMax, { inFlight: true })).toBe(10)
  })
})
