import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { initialLedger, type LedgerState } from '../../src/backoffice/ledger-state.ts'
import type { BalanceRow } from '../../src/backoffice/store.ts'
import { WrittenBalances } from '../../src/backoffice/written-balances.ts'

/** The rows a flush wrote before WrittenBalances: every balance row, filtered by a text of its figures per key. */
class ReferenceWritten {
  readonly #written = new Map<string, string>()

  load(rows: readonly BalanceRow[]): void {
    for (const row of rows) this.#written.set(`${row.accountId}\n${row.asset}`, `${row.total}/${row.reserved}`)
  }

  changed(ledger: LedgerState): BalanceRow[] {
    const changed: BalanceRow[] = []
    for (const row of balanceRowsOf(ledger)) {
      const key = `${row.accountId}\n${row.asset}`
      const value = `${row.total}/${row.reserved}`
      if (this.#written.get(key) === value) continue
      this.#written.set(key, value)
      changed.push(row)
    }
    return changed
  }
}

const ACCOUNTS = ['a', 'b', 'c']
const ASSETS = ['USD', 'BTC', 'ETH']
const BOOKS = [...ACCOUNTS.map((account) => `acct:${account}`), 'venue:sim', 'fees:sim', 'equity:funding']

type Step =
  | { kind: 'book'; book: string; asset: string; amount: bigint }
  | { kind: 'hold'; account: string; asset: string; amount: bigint }
  | { kind: 'flush' }

const amountArb = fc.constantFrom(0n, 1n, 5n, -3n, 100_000_000n)
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('book' as const), book: fc.constantFrom(...BOOKS), asset: fc.constantFrom(...ASSETS), amount: amountArb }),
  fc.record({ kind: fc.constant('hold' as const), account: fc.constantFrom(...ACCOUNTS), asset: fc.constantFrom(...ASSETS), amount: amountArb }),
  fc.constant({ kind: 'flush' as const }),
)

function apply(ledger: LedgerState, step: Step): void {
  if (step.kind === 'book') {
    let assets = ledger.books.get(step.book)
    if (assets === undefined) ledger.books.set(step.book, (assets = new Map()))
    assets.set(step.asset, step.amount)
  } else if (step.kind === 'hold') {
    let assets = ledger.reserved.get(step.account)
    if (assets === undefined) ledger.reserved.set(step.account, (assets = new Map()))
    // As the ledger's reservations: an entry at zero leaves the map.
    if (step.amount === 0n) assets.delete(step.asset)
    else assets.set(step.asset, step.amount)
  }
}

describe('WrittenBalances', () => {
  test('each flush writes the rows, in the order, that comparing every balance row by its figures wrote', () => {
    // size 'max': fast-check's default size ('small') generates at most about 10 elements, whatever maxLength says.
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60, size: 'max' }), fc.array(fc.record({ account: fc.constantFrom(...ACCOUNTS), asset: fc.constantFrom(...ASSETS), total: amountArb, reserved: amountArb }), { maxLength: 4 }), (steps, stored) => {
        const ledger = initialLedger()
        const written = new WrittenBalances()
        const reference = new ReferenceWritten()
        const rows = stored.map(({ account, asset, total, reserved }) => ({ accountId: account, asset, total, reserved }))
        written.load(rows)
        reference.load(rows)
        for (const step of [...steps, { kind: 'flush' as const }]) {
          apply(ledger, step)
          if (step.kind === 'flush') expect(written.changed(ledger)).toEqual(reference.changed(ledger))
        }
      }),
      { numRuns: 300, seed: 45 },
    )
  })

  test('a hold of an asset the account book has no entry for is a row of total 0; its release writes reserved 0 once', () => {
    const ledger = initialLedger()
    const written = new WrittenBalances()
    ledger.books.set('acct:a', new Map([['USD', 10n]]))
    ledger.reserved.set('a', new Map([['BTC', 2n]]))
    expect(written.changed(ledger)).toEqual([
      { accountId: 'a', asset: 'BTC', total: 0n, reserved: 2n },
      { accountId: 'a', asset: 'USD', total: 10n, reserved: 0n },
    ])
    expect(written.changed(ledger)).toEqual([])
    ledger.reserved.get('a')?.set('USD', 4n)
    expect(written.changed(ledger)).toEqual([{ accountId: 'a', asset: 'USD', total: 10n, reserved: 4n }])
    ledger.reserved.get('a')?.delete('USD')
    expect(written.changed(ledger)).toEqual([{ accountId: 'a', asset: 'USD', total: 10n, reserved: 0n }])
    expect(written.changed(ledger)).toEqual([])
  })
})
