import { describe, expect, test } from 'bun:test'
import type { Observation } from '../../src/backoffice/internal-checks.ts'
import { VenueSuspects } from '../../src/backoffice/venue-suspects.ts'

const balance: Observation = { key: 'venue_balances:sim:a:USD', check: 'venue_balances', what: 'traded balance', expected: '0', actual: '1' }
const kernel: Observation = { key: 'ledger_vs_kernel:balance:a:USD', check: 'ledger_vs_kernel', what: 'balance', expected: '0', actual: '1' }

describe('venue suspects', () => {
  test('an internal difference is a break at once; a venue one when the next run of its check sees it again, dated from the first', () => {
    const suspects = new VenueSuspects()
    expect(suspects.confirmedSinceMs(kernel, 10)).toBe(10)
    expect(suspects.confirmedSinceMs(balance, 10)).toBeNull()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances', 'ledger_vs_kernel'], observations: [balance, kernel] })
    expect(suspects.confirmedSinceMs(balance, 20)).toBe(10)
  })

  test('seen, then not seen by a run of its check: it starts over', () => {
    const suspects = new VenueSuspects()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances'], observations: [balance] })
    suspects.noteRun({ atMs: 20, ran: ['venue_balances'], observations: [] })
    expect(suspects.confirmedSinceMs(balance, 30)).toBeNull()
    suspects.noteRun({ atMs: 30, ran: ['venue_balances'], observations: [balance] })
    expect(suspects.confirmedSinceMs(balance, 40)).toBe(30)
  })

  test('a run that skipped the check (its venue did not answer) keeps what the check saw before', () => {
    const suspects = new VenueSuspects()
    suspects.noteRun({ atMs: 10, ran: ['venue_balances'], observations: [balance] })
    suspects.noteRun({ atMs: 20, ran: ['ledger_vs_kernel'], observations: [] })
    expect(suspects.confirmedSinceMs(balance, 30)).toBe(10)
  })
})
