/**
 * Folding a kernel harness's log (specs/kernel/fixtures.ts) into the back office's ledger, and the check that the
 * ledger booked what the kernel did: shared by the retention specs, which build a kernel history and compare.
 */

import { expect } from 'bun:test'
import { balanceRowsOf } from '../../src/backoffice/balances.ts'
import { ledgerVsKernel } from '../../src/backoffice/internal-checks.ts'
import type { LedgerState } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { Harness } from '../kernel/fixtures.ts'

/** Applies the harness's log from `fromLsn` on to `ledger`, as the projector folds it. */
export function foldOn(ledger: LedgerState, harness: Pick<Harness, 'log'>, fromLsn: number): LedgerState {
  for (let lsn = fromLsn; lsn <= harness.log.length; lsn++) applyEvent(ledger, harness.log[lsn - 1] as DomainEvent, lsn)
  return ledger
}

/** The ledger booked the one fill, and its balances and holds agree with the kernel's. */
export function expectBooked(ledger: LedgerState, harness: Harness): void {
  expect(ledger.counters.unbookedFills).toBe(0)
  expect(ledger.counters.fills).toBe(1)
  expect(ledgerVsKernel(balanceRowsOf(ledger), harness.state)).toEqual([])
}
