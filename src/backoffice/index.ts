/**
 * backoffice/ — proves the money: a double-entry ledger, positions, balances, fills and PnL projected from the same
 * log that drove the orders; a SQLite query model written at a known LSN; and reconciliation of all of it against
 * the kernel, a from-scratch replay and the venues, with breaks recorded in the log.
 */

export { FUNDING_BOOK, accountBook, assertBalanced, bookBalance, feeBook, trialBalance, venueBook } from './books.ts'
export { genesisLedger, initialLedger, type Booked, type FillRecord, type LedgerState, type Liquidity, type Posting, type PostingKind } from './ledger-state.ts'
export { applyEvent } from './ledger.ts'
export { averageCost, positionKey, unrealizedPnl, type Position } from './positions.ts'
export { heldFor, type TrackedOrder } from './orders.ts'
export { Store, type QueryModelDigest, type BalanceRow, type FillQuery, type LedgerQuery, type ModelVersion, type StoreBatch, type StoreCounts } from './store.ts'
export { isKnownModelVersion, QUERY_MODEL_VERSION } from './store-schema.ts'
export { QueryModelStoreError, type QueryModelStoreProblemCode } from './store-error.ts'
export { PENDING_ROWS_FAILING_FACTOR, QUERY_MODEL_WRITE_FAILED, QueryModelWriteError, WriteFailures, type WriteFailureReport } from './write-failures.ts'
export { decodedSectionModelVersion, sectionModelVersion } from './section-model.ts'
export { fillList, fillPage, type FillPage, type ListedFill } from './fill-list.ts'
export type { PageReader } from './merged-page.ts'
export { postingPage, type PostingPage, type PostingPosition } from './posting-list.ts'
export type { TrueUpFill } from './true-up-fills.ts'
export { Projector, PROJECTOR_DEFAULTS, ledgerBalance, type ProjectorOptions, type ProjectorStats } from './projector.ts'
export {
  BACKOFFICE_RECORD_TYPE_MIN,
  BREAK_CLEARED,
  BREAK_OPENED,
  BreakBook,
  RECONCILED,
  RECONCILE_CHECKS,
  decodeBackOfficeRecord,
  encodeBackOfficeRecord,
  isBackOfficeRecord,
  type BackOfficeRecord,
  type OpenBreak,
  type ReconcileCheck,
} from './breaks.ts'
export { BACKOFFICE_DEFAULTS, BackOffice, type BackOfficeOptions, type ReconcileResult } from './backoffice.ts'
export { backOfficeOf, backOfficeSectionSource, openBackOfficeOf } from './backoffice-of.ts'
export { balanceRowsOf } from './balances.ts'
export { foldFrame } from './fold.ts'
export { QueryModelRebuild } from './rebuild.ts'
export {
  BACKOFFICE_SECTION, BACKOFFICE_SECTION_VERSION, BackOfficeSectionError, decodeSection, encodeSection, sectionHeaderOf, type BackOfficeSection,
  type DecodeSectionOptions, type SectionDecodeObserver, type SectionHeader,
} from './section.ts'
export { finishStoreReplacement, replaceStoreFile, stagedPathOf } from './store-file.ts'
export { diffAmounts, ledgerBalanced, ledgerFigures, ledgerVsKernel, ledgerVsReplay, ledgerVsStore, type LedgerFigures, type Observation } from './internal-checks.ts'
export { reconcileVenue, tradingFlows, type BalanceBasis, type ExternalResult, type VenueSource } from './external-checks.ts'
export { breakAccountOf, type OrderAccount } from './break-account.ts'
export { balanceView, breakView, fillView, pnlView, positionView, postingView } from './views.ts'
