/**
 * The back office over HTTP, read-only: positions, balances, fills, PnL, the ledger's postings, stats and reconcile
 * state. Auditors, ops and admins read every account; a trader or bot reads only the accounts in its scope. Nothing
 * here writes — reconcile runs on the back office's own schedule, and its breaks are records in the log.
 *
 * Lists are paged with a cursor (`next_cursor`): the position of the last row returned, in log order; null at the
 * end. Only the rows of accounts the caller may read are read at all (src/backoffice/merged-page.ts): a page ends on
 * the caller's own rows or at the end of the list, so neither its cursor nor whether it has one says anything about
 * other accounts' rows. (Before, other accounts' rows were read and skipped, at most 64 reads a page; a page whose
 * reads ran out answered with the LSN of another account's row as its cursor, and an empty page with a cursor over a
 * from_lsn..to_lsn range told how many of other accounts' rows lay there.)
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import {
  backOfficeOf,
  balanceView,
  breakAccountOf,
  breakView,
  fillPage,
  fillView,
  pnlView,
  positionView,
  postingPage,
  postingView,
  QueryModelWriteError,
  type BackOffice,
  type PageReader,
  type ModelVersion,
  type OpenBreak,
  type OrderAccount,
  type ReconcileCheck,
  type StoreCounts,
} from '../../backoffice/index.ts'
import { canRead, canReadEvery, principalOf, type AuthEnv, type Principal } from '../auth/index.ts'
import { ApiError } from '../errors.ts'
import type { BackOfficeStatsBody } from '../openapi/stats-schema.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'

const ID = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,128}$/, 'expected 1–128 printable ASCII characters'))
const COUNT = v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'expected a non-negative integer'), v.transform(Number))
const LIMIT = v.pipe(v.string(), v.regex(/^\d{1,4}$/, 'expected an integer 1–1000'), v.transform(Number), v.minValue(1, 'expected an integer 1–1000'), v.maxValue(1000, 'expected an integer 1–1000'))

/** GET /v1/positions, /v1/balances and /v1/pnl: one account, or every account the caller may read. */
export const ACCOUNT_QUERY = v.strictObject({ account: v.exactOptional(ID) })

const RANGE = {
  account: v.exactOptional(ID),
  from_lsn: v.exactOptional(COUNT),
  to_lsn: v.exactOptional(COUNT),
  from_ms: v.exactOptional(COUNT),
  to_ms: v.exactOptional(COUNT),
  limit: v.exactOptional(LIMIT),
}

export const LEDGER_QUERY = v.strictObject({
  ...RANGE,
  asset: v.exactOptional(ID),
  book: v.exactOptional(ID),
  cursor: v.exactOptional(v.pipe(v.string(), v.regex(/^\d{1,15}\.\d{1,4}$/, 'expected a cursor from next_cursor'))),
})

export const FILLS_QUERY = v.strictObject({
  ...RANGE,
  symbol: v.exactOptional(ID),
  order_id: v.exactOptional(ID),
  cursor: v.exactOptional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'expected a cursor from next_cursor'))),
})

export function backofficeRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  const office = (): BackOffice => backOfficeOf(services.gateway)
  office()
  registerMetrics(services, office)
  app.get('/v1/positions', (c) => {
    const { accounts, asOfLsn } = scope(c, office(), queryOf(c, ACCOUNT_QUERY).account)
    const rows = office().projector.store.positions().filter((row) => accounts(row.accountId))
    return c.json({ as_of_lsn: asOfLsn, positions: rows.map((row) => positionView(office(), row)) })
  })
  app.get('/v1/balances', (c) => {
    const { accounts, asOfLsn } = scope(c, office(), queryOf(c, ACCOUNT_QUERY).account)
    const rows = office().projector.store.balances().filter((row) => accounts(row.accountId))
    return c.json({ as_of_lsn: asOfLsn, balances: rows.map(balanceView) })
  })
  app.get('/v1/pnl', (c) => {
    const { accounts, asOfLsn } = scope(c, office(), queryOf(c, ACCOUNT_QUERY).account)
    const rows = office().projector.store.positions().filter((row) => accounts(row.accountId))
    return c.json({ as_of_lsn: asOfLsn, pnl: pnlView(office(), rows) })
  })
  app.get('/v1/fills', (c) => listFills(c, office(), services))
  app.get('/v1/ledger', (c) => listPostings(c, office(), services))
  app.get('/v1/stats', (c) => {
    queryOf(c, NO_QUERY)
    return c.json(statsView(office(), principalOf(c)))
  })
  app.get('/v1/reconcile', (c) => {
    const query = queryOf(c, RECONCILE_QUERY)
    const principal = principalOf(c)
    const lastRun = office().projector.breaks.lastRun
    const readAll = canReadEvery(principal)
    const visible = visibleBreaks(office(), principal)
    const { breaks, nextAfterLsn } = breakPage(visible, { afterLsn: query.cursor === undefined ? 0 : Number(query.cursor), limit: Math.min(query.limit ?? 100, services.limits.listPageMax) })
    // A scoped reader's answer says nothing of other accounts: whether any break is open (ok) is asked of its own
    // breaks, and a run's counts (every account's differences, openings and clearings) are for every-account readers.
    return c.json({
      ok: visible.length === 0,
      open_breaks: breaks.map(breakView),
      open_break_count: visible.length,
      next_cursor: nextAfterLsn === null ? null : String(nextAfterLsn),
      last_run:
        lastRun === null
          ? null
          : {
              run_id: lastRun.runId, at_ms: lastRun.atMs, as_of_lsn: lastRun.asOfLsn, lsn: lastRun.lsn, checks: lastRun.checks,
              skipped: readAll ? lastRun.skipped : lastRun.skipped.map((item) => scopedSkip(item, principal, venueNames(services))),
              breaks_seen: readAll ? lastRun.breaksSeen : null,
              opened: readAll ? lastRun.opened : null,
              cleared: readAll ? lastRun.cleared : null,
            },
      last_error: scopedError(office().lastError, readAll),
    })
  })
  return app
}

/**
 * GET /v1/reconcile: the open breaks are paged like every other list, oldest opened first, the cursor the LSN of the
 * record that opened the page's last break. Open breaks are not bounded (a venue with thousands of orders egress does
 * not hold opens one each, and a venue_trades break whose trade left the compared window stays open): the answer held
 * every one of them, megabytes for a few thousand.
 */
export const RECONCILE_QUERY = v.strictObject({
  limit: v.exactOptional(LIMIT),
  cursor: v.exactOptional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'expected a cursor from next_cursor'))),
})

/** At most `limit` of `breaks` opened after `afterLsn`, oldest first, and where the next page starts (null: none). */
function breakPage(breaks: readonly OpenBreak[], page: { afterLsn: number; limit: number }): { breaks: OpenBreak[]; nextAfterLsn: number | null } {
  const after = breaks.filter((item) => item.lsn > page.afterLsn).sort((a, b) => a.lsn - b.lsn)
  const rows = after.slice(0, page.limit)
  return { breaks: rows, nextAfterLsn: after.length > rows.length ? (rows.at(-1)?.lsn ?? null) : null }
}

/** Shown in place of a detail that names an account the reader may not read. */
export const DETAIL_NOT_SHOWN = 'not shown: it names an account outside your scope'

function venueNames(services: Services): string[] {
  return services.gateway.options.venues.map(({ adapter }) => adapter.venue)
}

/**
 * A skipped check as a scoped reader sees it. A venue check is skipped with the venue and account that did not answer
 * (`<venue>/<account>: …`, external-checks.ts): the detail is shown when that account is one the reader may read, else
 * replaced. An internal check's detail names no account.
 */
function scopedSkip(item: { check: ReconcileCheck; detail: string }, principal: Principal, venues: readonly string[]): { check: ReconcileCheck; detail: string } {
  if (!item.check.startsWith('venue_')) return item
  const own = principal.accounts.some((account) => canRead(principal, account) && venues.some((venue) => item.detail.startsWith(`${venue}/${account}: `)))
  return own ? item : { check: item.check, detail: DETAIL_NOT_SHOWN }
}

/**
 * The open breaks `principal` may see: every one for an every-account reader; else those of accounts it may read, the
 * account read from the break's check and key (src/backoffice/break-account.ts). A break of no account it can tell is
 * for every-account readers only.
 */
function visibleBreaks(office: BackOffice, principal: Principal): BackOffice['openBreaks'] {
  const breaks = office.openBreaks
  if (canReadEvery(principal)) return breaks
  const unknown = breaks.filter((item) => !breakAccounts.has(item))
  const orderAccount = orderAccountsOf(office, unknown)
  for (const item of unknown) {
    const account = breakAccountOf(item, orderAccount)
    if (account !== null) breakAccounts.set(item, account)
  }
  return breaks.filter((item) => {
    const account = breakAccounts.get(item)
    return account !== undefined && canRead(principal, account)
  })
}

/**
 * Each open break's account once found (an order's account never changes), kept as long as the break is open: a scoped
 * read looks up only the breaks opened since, and those it found no account for (an order not known yet).
 */
const breakAccounts = new WeakMap<OpenBreak, string>()

/** The last failed run: its message (an adapter's error may name any account) for every-account readers only. */
function scopedError(error: { atMs: number; message: string } | null, readAll: boolean): { atMs: number; message: string } | null {
  return error === null || readAll ? error : { atMs: error.atMs, message: DETAIL_NOT_SHOWN }
}

/**
 * The account of each order `breaks` name: held by the ledger, else named by its fills in the query model (a retired
 * order). The orders the ledger does not hold are gathered first (a pass of breakAccountOf noting what it asks) and
 * read together (Store.accountsOfOrders): read one statement each, thousands of breaks of retired orders held the
 * event loop at every scoped read of /v1/reconcile and /v1/stats.
 */
function orderAccountsOf(office: BackOffice, breaks: readonly OpenBreak[]): OrderAccount {
  const held = office.projector.ledger.orders
  const retired = new Set<string>()
  for (const item of breaks) {
    breakAccountOf(item, (orderId) => {
      const accountId = held.get(orderId)?.accountId
      if (accountId === undefined) retired.add(orderId)
      return accountId
    })
  }
  const stored = retired.size === 0 ? new Map<string, string>() : office.projector.store.accountsOfOrders([...retired])
  return (orderId) => held.get(orderId)?.accountId ?? stored.get(orderId)
}

/**
 * Which accounts the caller sees: the one asked for (if readable), else every account it may read — as a predicate,
 * and as the list a page reads (`reader`: 'every' for a caller who reads every account).
 */
function scope(c: Context<AuthEnv>, office: BackOffice, account: string | undefined): { accounts: (accountId: string) => boolean; reader: PageReader; asOfLsn: number } {
  const principal = principalOf(c)
  // Answers come from the query model; bring it up to the log first so a read after a write sees the write.
  flushForRead(office)
  const asOfLsn = office.projector.store.lastLsn
  if (account !== undefined) {
    if (!canRead(principal, account)) throw new ApiError('FORBIDDEN', `not allowed to read account ${account}`, { details: { account } })
    return { accounts: (accountId) => accountId === account, reader: [account], asOfLsn }
  }
  const reader: PageReader = canReadEvery(principal) ? 'every' : principal.accounts.filter((accountId) => canRead(principal, accountId))
  return { accounts: (accountId) => canRead(principal, accountId), reader, asOfLsn }
}

/**
 * Brings the query model up to the log for a read, or refuses the read with QUERY_MODEL_UNAVAILABLE while it cannot be
 * written (src/backoffice/write-failures.ts). A failing write answered 500 INTERNAL. While writes fail the read does not
 * try one more: each retry writes every pending row, and the projector's timer retries them every flush interval.
 */
function flushForRead(office: BackOffice): void {
  const failures = office.projector.writeFailures
  const known = failures.stopped ?? failures.failing
  if (known !== null) throw queryModelUnavailable(failures.stopped === null ? 'write_failing' : 'stopped', known)
  try {
    office.projector.flush()
  } catch (error) {
    if (!(error instanceof QueryModelWriteError)) throw error
    throw queryModelUnavailable(failures.stopped === null ? 'write_failing' : 'stopped', error)
  }
}

/** Retry-After of a read refused while the query model's writes fail: they are retried every flush interval (100 ms by default). */
const WRITE_FAILING_RETRY_AFTER_SEC = '1'

function queryModelUnavailable(reason: 'write_failing' | 'stopped', error: QueryModelWriteError): ApiError {
  const message =
    reason === 'stopped'
      ? 'the query model stopped after failed writes (orders are not affected); a restart rebuilds it from the log'
      : 'the query model cannot be written now (orders are not affected); its rows are retried every flush interval'
  return new ApiError('QUERY_MODEL_UNAVAILABLE', message, {
    details: { reason, code: error.code, sqlite_code: error.sqliteCode },
    headers: reason === 'stopped' ? {} : { 'Retry-After': WRITE_FAILING_RETRY_AFTER_SEC },
  })
}

/**
 * Fills, in log order: fill records and the real executions behind true-ups, each synthetic fill marked with what of it
 * real executions superseded as of `to_lsn` (or the answer's `as_of_lsn`) and `to_ms`, attributed per order
 * (src/backoffice/fill-list.ts says how).
 */
function listFills(c: Context<AuthEnv>, office: BackOffice, services: Services): Response {
  const query = queryOf(c, FILLS_QUERY)
  const { reader, asOfLsn } = scope(c, office, query.account)
  const limit = Math.min(query.limit ?? 100, services.limits.listPageMax)
  const { fills, nextAfterLsn } = fillPage(
    office.projector.store,
    {
      ...pick(query, ['from_lsn', 'to_lsn', 'from_ms', 'to_ms'], { from_lsn: 'fromLsn', to_lsn: 'toLsn', from_ms: 'fromMs', to_ms: 'toMs' }),
      ...(query.account === undefined ? {} : { accountId: query.account }),
      ...(query.symbol === undefined ? {} : { symbol: query.symbol }),
      ...(query.order_id === undefined ? {} : { orderId: query.order_id }),
      ...(query.cursor === undefined ? {} : { afterLsn: Number(query.cursor) }),
      limit,
    },
    reader,
  )
  return c.json({ as_of_lsn: asOfLsn, fills: fills.map(fillView), next_cursor: nextAfterLsn === null ? null : String(nextAfterLsn) })
}

function listPostings(c: Context<AuthEnv>, office: BackOffice, services: Services): Response {
  const query = queryOf(c, LEDGER_QUERY)
  const { reader, asOfLsn } = scope(c, office, query.account)
  const limit = Math.min(query.limit ?? 100, services.limits.listPageMax)
  const [lsnText, seqText] = query.cursor === undefined ? [] : query.cursor.split('.')
  const { postings, next } = postingPage(
    office.projector.store,
    {
      ...pick(query, ['from_lsn', 'to_lsn', 'from_ms', 'to_ms'], { from_lsn: 'fromLsn', to_lsn: 'toLsn', from_ms: 'fromMs', to_ms: 'toMs' }),
      ...(query.account === undefined ? {} : { accountId: query.account }),
      ...(query.asset === undefined ? {} : { asset: query.asset }),
      ...(query.book === undefined ? {} : { book: query.book }),
      ...(lsnText === undefined ? {} : { after: { lsn: Number(lsnText), seq: Number(seqText ?? 0) } }),
      limit,
    },
    reader,
  )
  return c.json({ as_of_lsn: asOfLsn, postings: postings.map(postingView), next_cursor: next === null ? null : `${String(next.lsn)}.${String(next.seq)}` })
}

function pick<Q extends Record<string, unknown>, K extends keyof Q & string, M extends Record<K, string>>(query: Q, keys: K[], names: M): Record<string, number> {
  const picked: Record<string, number> = {}
  for (const key of keys) if (typeof query[key] === 'number') picked[names[key]] = query[key] as number
  return picked
}

/**
 * The back office's figures. How far it got (LSNs, lag) and how it started are for every caller: every answer carries
 * the log's position already (as_of_lsn). Why a section was refused is too, but its text (it may name another
 * account's order) only to every-account readers: others get its code. Counts over every account (the ledger's, the query model's rows, rows
 * pending and batches written) are for every-account readers only, null otherwise; open breaks are the caller's.
 */
function statsView(office: BackOffice, principal: Principal): BackOfficeStatsBody {
  const stats = office.stats()
  const readAll = canReadEvery(principal)
  return {
    applied_lsn: stats.appliedLsn,
    stored_lsn: stats.storedLsn,
    log_last_lsn: stats.walLastLsn,
    lag_records: stats.lagRecords,
    pending_rows: readAll ? stats.pendingRows : null,
    batches_written: readAll ? stats.batchesWritten : null,
    store_rebuilt_at_start: stats.rebuiltStore,
    store_resumed_from_lsn: stats.startedFromLsn,
    ledger_complete: stats.ledgerComplete,
    // The snapshot section the back office started from (null: replayed the log), whether its query-model copy
    // replaced the stored one, and why a section was refused.
    section_lsn: stats.sectionLsn,
    store_restored_from_section: stats.restoredStore,
    section_problem: stats.sectionProblem === null || readAll ? stats.sectionProblem : sectionProblemCode(stats.sectionProblem),
    store_held: stats.storeHeld,
    ledger: readAll ? ledgerView(office) : null,
    // The query model's rows, its version, and through which LSN it holds no true-up fills (src/backoffice/store-schema.ts).
    store: readAll ? storeView(office.projector.store.counts(), office.projector.store.modelVersion) : null,
    open_breaks: visibleBreaks(office, principal).length,
    last_reconcile_lsn: office.projector.breaks.lastRun?.lsn ?? null,
  }
}

/**
 * A refused section's code alone (`STATE_INVALID`, `LOG_MISMATCH`, …), for a reader scoped to accounts: the text may
 * name an order or a position of any account (`STATE_INVALID: order <id>: …`). A text without one: SECTION_REFUSED.
 */
function sectionProblemCode(problem: string): string {
  return /^([A-Z][A-Z0-9_]*): /.exec(problem)?.[1] ?? 'SECTION_REFUSED'
}

function ledgerView(office: BackOffice): NonNullable<BackOfficeStatsBody['ledger']> {
  const ledger = office.projector.ledger
  return {
    entries: ledger.counters.entries,
    postings: ledger.counters.postings,
    fills: ledger.counters.fills,
    fundings: ledger.counters.fundings,
    // Orders held (open, and ended ones not yet retired: src/backoffice/retention.ts), retired, and fills of retired orders.
    orders: ledger.orders.size,
    orders_retired: ledger.counters.retiredOrders,
    fills_unbooked: ledger.counters.unbookedFills,
    positions: ledger.positions.size,
  }
}

function storeView(counts: StoreCounts, model: ModelVersion): NonNullable<BackOfficeStatsBody['store']> {
  const { postings, fills, trueUpFills, positions, balances } = counts
  return { postings, fills, true_up_fills: trueUpFills, positions, balances, model_version: model.version, true_ups_untracked_through_lsn: model.trueUpsUntrackedThroughLsn }
}

/** Gauges on the gateway's /metrics: open breaks and how far the query model trails the log. */
function registerMetrics(services: Services, office: () => BackOffice): void {
  const registry = services.metrics.registry
  // Once per registry: an app built twice over the same services (tests do) adds the metrics once.
  registry.once('backoffice', () => {
    const breaks = registry.gauge({ name: 'egress_backoffice_breaks_open', help: 'Reconcile breaks open (recorded in the log, not yet cleared by a matching run).', labelNames: [] })
    const lag = registry.gauge({ name: 'egress_backoffice_lag_records', help: 'Log records not yet written to the back office query model.', labelNames: [] })
    const applied = registry.gauge({ name: 'egress_backoffice_applied_lsn', help: 'Every log record up to this LSN is in the back office ledger.', labelNames: [] })
    const writeFailures = registry.counter({ name: 'egress_backoffice_write_failures_total', help: 'Query model writes that failed (QUERY_MODEL_WRITE_FAILED), by SQLite code (none: not a SQLite error); retried every flush interval.', labelNames: ['sqlite_code'] })
    const stopped = registry.gauge({ name: 'egress_backoffice_stopped', help: '1 once failed writes stopped the query model (its reads answer 503 until a restart); alert on 1.', labelNames: [] })
    registry.beforeRender(() => {
      const stats = office().stats()
      breaks.set(office().openBreaks.length)
      lag.set(stats.lagRecords)
      applied.set(stats.appliedLsn)
      const failures = office().projector.writeFailures
      for (const [code, count] of failures.counts) writeFailures.advanceTo(count, { sqlite_code: code })
      stopped.set(failures.stopped === null ? 0 : 1)
    })
  })
}
