// An account id may hold ':' (idSchema: printable ASCII) and so may an asset a venue names (a fill's fee asset, a
// balance answer's asset). The reconcile checks joined them raw with ':', so account `a` in asset `X:Y` and account
// `a:X` in `Y` made the same key: two differences were one break (the run kept one of them), and it was read as
// account `a:X`'s (break-account.ts), shown to that account's readers and hidden from `a`'s. Now the free-form
// segments are escaped (breaks.ts keySegment): keys of ids without ':' or '%' are as they were, and a break recorded
// under a key that changes is cleared by the first run and opened again under its new key, nothing left open for good.
import { describe, expect, test } from 'bun:test'
import { breakAccountOf, ledgerVsKernel, ledgerVsReplay, type LedgerFigures, type Observation } from '../../src/backoffice/index.ts'
import { RECORD_TEXT_CHARS_MAX, venueBalanceKey, type OpenBreak } from '../../src/backoffice/breaks.ts'
import { BREAK_RECORDS_PER_RUN_MAX, reconcileRecords } from '../../src/backoffice/reconcile-records.ts'
import { VenueSuspects } from '../../src/backoffice/venue-suspects.ts'
import type { KernelState } from '../../src/kernel/state.ts'

const none = (): undefined => undefined

/** A kernel holding `balances` (account → asset → units) and nothing else the check reads. */
function kernelWith(balances: Record<string, Record<string, bigint>>): KernelState {
  const accounts = new Map(Object.entries(balances).map(([id, held]) => [id, { balances: new Map(Object.entries(held)), reserved: new Map() }]))
  return { accounts, orders: new Map() } as unknown as KernelState
}

const row = (accountId: string, asset: string, total: bigint) => ({ accountId, asset, total, reserved: 0n })

describe('reconcile break keys keep an account and an asset apart, whatever ":" they hold', () => {
  test('ledger_vs_kernel: account a in X:Y and account a:X in Y are two breaks, each read as its own account', () => {
    const found = ledgerVsKernel([row('a', 'X:Y', 5n), row('a:X', 'Y', 7n)], kernelWith({ a: { 'X:Y': 6n }, 'a:X': { Y: 8n } }))
    expect(found).toHaveLength(2)
    expect(new Set(found.map((item) => item.key)).size).toBe(2)
    expect(found.map((item) => [item.what, breakAccountOf(item, none)])).toEqual([
      ['balance of a in X:Y: ledger vs kernel', 'a'],
      ['balance of a:X in Y: ledger vs kernel', 'a:X'],
    ])
  })

  test('ledger_vs_replay: an account book and a position fee figure, the same', () => {
    const live: LedgerFigures = {
      books: new Map([['acct:a\nX:Y', 1n], ['acct:a:X\nY', 1n], ['venue:sim\nUSD', 1n]]),
      reserved: new Map(),
      positions: new Map([['a\nsim:BTC-USD\nfees_X:Y', 1n], ['a:X\nsim:BTC-USD\nfees_Y', 1n]]),
    }
    const found = ledgerVsReplay(live, { books: new Map(), reserved: new Map(), positions: new Map() })
    expect(new Set(found.map((item) => item.key)).size).toBe(5)
    expect(found.map((item) => breakAccountOf(item, none))).toEqual(['a', 'a:X', null, 'a', 'a:X'])
    // The fixed segments are as they were: a book's kind, a position's venue and symbol.
    expect(found.map((item) => item.key)).toContain('ledger_vs_replay:book:venue:sim:USD')
    expect(found.map((item) => item.key)).toContain('ledger_vs_replay:position:a:sim:BTC-USD:fees_X%3AY')
  })

  test('venue_balances: the same pair of pairs, two keys, each read as its own account', () => {
    const keys = [venueBalanceKey('sim', 'a', 'X:Y'), venueBalanceKey('sim', 'a:X', 'Y')]
    expect(new Set(keys).size).toBe(2)
    expect(keys.map((key) => breakAccountOf({ check: 'venue_balances', key }, none))).toEqual(['a', 'a:X'])
    // An id holding the escape itself is read back as it was.
    expect(breakAccountOf({ check: 'venue_balances', key: venueBalanceKey('sim', 'a%3A:b', 'USD') }, none)).toBe('a%3A:b')
  })

  test('a key of ids without ":" or "%" is as before; one of ids full of ":" is still cut to what a record holds', () => {
    const [plain] = ledgerVsKernel([row('acct-a', 'USD', 1n)], kernelWith({ 'acct-a': { USD: 2n } }))
    expect(plain?.key).toBe('ledger_vs_kernel:balance:acct-a:USD')
    const [long] = ledgerVsKernel([row(':'.repeat(128), ':'.repeat(256), 1n)], kernelWith({}))
    expect(long?.key.length).toBeLessThanOrEqual(RECORD_TEXT_CHARS_MAX)
  })

  test('a break recorded under an older build’s key is cleared by the first run, and the difference opened under its new key', () => {
    const [now] = ledgerVsKernel([row('a:X', 'Y', 7n)], kernelWith({ 'a:X': { Y: 8n } })) as [Observation]
    const older = 'ledger_vs_kernel:balance:a:X:Y'
    const open = new Map<string, OpenBreak>([[older, { ...now, key: older, firstSeenMs: 1, asOfLsn: 1, runId: 'older', lsn: 1 }]])
    const run = { runId: 'r', checks: ['ledger_vs_kernel' as const], skipped: [], observations: [now], coveredKeys: new Map(), inFlight: new Set<string>(), explained: new Set<string>(), accountOf: new Map(), skippedVenues: new Map(), venues: new Set<string>() }
    const records = reconcileRecords(run, { atMs: 10, asOfLsn: 10, open, suspects: new VenueSuspects(), recordsMax: BREAK_RECORDS_PER_RUN_MAX })
    expect(records.cleared).toEqual([older])
    expect(records.opened).toEqual(['ledger_vs_kernel:balance:a%3AX:Y'])
  })
})
