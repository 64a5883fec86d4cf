/**
 * The back office part of the document (routes/backoffice.ts): positions, balances, PnL, fills, the ledger's postings,
 * stats and reconcile state, read-only, from the query model. Row shapes follow src/backoffice/views.ts.
 */

import { RECONCILE_CHECKS } from '../../backoffice/index.ts'
import { ACCOUNT_QUERY, FILLS_QUERY, LEDGER_QUERY, RECONCILE_QUERY } from '../routes/backoffice.ts'
import { answerComponents, decimal, integer, jsonAnswer, nullable, operation, queryParameters, record, ref, type DocumentPart, type ErrorStatus, type Json } from './shared.ts'
import { BACKOFFICE_STATS } from './stats-schema.ts'

const WHO = 'Any authenticated principal: trader/bot see the accounts in their token, ops, auditor and admin every account'
const ACCOUNT = 'Only this account (403 if the caller may not read it); without it, every account the caller may read'
const AS_OF_LSN = integer('The log position the answer reflects: the query model is brought up to the log first, so a read after a write sees it')

const RANGE = {
  account: ACCOUNT,
  from_lsn: 'Rows recorded at or after this LSN',
  to_lsn: 'Rows recorded at or before this LSN',
  from_ms: 'Rows recorded at or after this time (ms since the epoch)',
  to_ms: 'Rows recorded at or before this time (ms since the epoch)',
  limit: 'Rows per page, 1–1000 (default 100, capped at the configured page bound)',
}

const PAGED =
  'follow next_cursor until it is null. A page holds rows of the accounts the caller may read only, and only those are read: ' +
  'next_cursor is the position of its last row when more follow; a page shorter than limit is the last (next_cursor null)'

const rowsOf = (name: string): Json => ({ type: 'array', items: ref(name) })

/** A read of one kind of row, for one account or every readable one: `{ as_of_lsn, <key> }`, rows of `schema`. */
function accountRows(summary: string, key: string, schema: string): Json {
  const answer = jsonAnswer(`{ as_of_lsn, ${key} }`, record({ as_of_lsn: AS_OF_LSN, [key]: rowsOf(schema) }))
  return { get: read({ summary, errors: ['400', '401', '403', '503'], answer, parameters: queryParameters(ACCOUNT_QUERY, { account: ACCOUNT }) }) }
}

function read(spec: { summary: string; errors: readonly ErrorStatus[]; answer: Json; parameters?: Json[] }): Json {
  return operation({
    tag: 'backoffice',
    summary: `${spec.summary}. ${WHO}`,
    security: 'bearer',
    errors: spec.errors,
    responses: { '200': spec.answer },
    ...(spec.parameters === undefined ? {} : { parameters: spec.parameters }),
  })
}

const CHECK: Json = { type: 'string', enum: [...RECONCILE_CHECKS] }

const RECONCILE_RUN = record({
  run_id: { type: 'string' },
  at_ms: integer('When it ran (ms since the epoch)'),
  as_of_lsn: integer('The ledger position it compared at'),
  lsn: integer('LSN of its backoffice.reconciled record'),
  checks: { type: 'array', items: CHECK, description: 'The checks that ran' },
  skipped: { type: 'array', items: record({ check: CHECK, detail: { type: 'string' } }), description: 'Checks that could not run (a venue unreachable), with why; for a trader or bot, a venue check skipped for an account it may not read says only that' },
  breaks_seen: { type: ['integer', 'null'], description: `${'Differences it found, open ones included, and venue differences seen for the first time (suspects: a break if the next run sees them again)'}; null unless the caller reads every account (the run's counts are over every account)` },
  opened: { type: ['integer', 'null'], description: `${'Breaks it opened'}; null unless the caller reads every account (the run's counts are over every account)` },
  cleared: { type: ['integer', 'null'], description: `${'Breaks it cleared'}; null unless the caller reads every account (the run's counts are over every account)` },
})

const RECONCILE = record({
  ok: { type: 'boolean', description: 'No break is open: for any account (every-account readers); for a trader or bot, none of those it is shown' },
  open_breaks: { ...rowsOf('ReconcileBreak'), description: 'A page of the open breaks, oldest opened first: follow next_cursor until it is null' },
  open_break_count: integer('The open breaks shown, on every page together: every open one for every-account readers, those of its accounts for a trader or bot'),
  next_cursor: nullable('string', 'The opened_lsn of the page\'s last break when more follow (the next page starts after it); null at the end'),
  last_run: { anyOf: [RECONCILE_RUN, { type: 'null' }], description: 'The last run recorded in the log; null before the first' },
  last_error: {
    anyOf: [record({ atMs: integer('When it failed (ms since the epoch)'), message: { type: 'string' } }), { type: 'null' }],
    description: 'The last scheduled reconcile run that failed; null once one succeeds. Its message (it may name any account) for every-account readers only',
  },
})

export function backofficePart(): DocumentPart {
  return {
    schemas: {
      ...answerComponents({ BackOfficeStats: BACKOFFICE_STATS }),
      Position: record({
        account: { type: 'string' },
        venue: { type: 'string' },
        symbol: { type: 'string' },
        base_asset: { type: 'string' },
        quote_asset: { type: 'string' },
        net_qty: decimal('Signed: negative is short'),
        avg_cost: { ...decimal('Average cost of the open quantity'), type: ['string', 'null'] },
        cost_basis: decimal(),
        realized_pnl: decimal(),
        mark_price: { ...decimal("The venue's reference price now; null when it has none"), type: ['string', 'null'] },
        unrealized_pnl: { ...decimal('At mark_price; null without one'), type: ['string', 'null'] },
        fees: { type: 'object', additionalProperties: decimal(), description: 'Fees paid, by asset' },
        bought_qty: decimal(),
        sold_qty: decimal(),
        fills: integer('Fills booked into the position'),
        last_lsn: integer('LSN of the last record that changed it'),
      }),
      Balance: record({ account: { type: 'string' }, asset: { type: 'string' }, total: decimal(), reserved: decimal('Held by open orders'), available: decimal('total - reserved') }),
      Pnl: record(
        {
          account: { type: 'string' },
          asset: { type: 'string', description: 'The asset the figures are in: a quote asset, or one only fees were paid in' },
          realized_pnl: decimal(),
          unrealized_pnl: decimal('At the marks; positions without one are left out (unmarked)'),
          fees: decimal('Fees paid in this asset'),
          net_pnl: decimal('realized + unrealized - fees'),
          unmarked: { type: 'array', items: { type: 'string' }, description: 'venue:symbol of open positions with no mark price' },
        },
        'PnL of one account in one asset',
      ),
      Fill: record({
        lsn: integer('LSN of the fill record (the cursor is one)'),
        exec_id: { type: 'string' },
        order_id: { type: 'string' },
        account: { type: 'string' },
        venue: { type: 'string' },
        symbol: { type: 'string' },
        side: { type: 'string', enum: ['buy', 'sell'] },
        qty: decimal(),
        price: decimal(),
        fee: decimal(),
        fee_asset: { type: 'string' },
        liquidity: { type: ['string', 'null'], enum: ['maker', 'taker', null] },
        synthetic: { type: 'boolean', description: 'Inferred by reconciliation, to be trued up by the real executions it stands for' },
        replaces_synthetic: { type: 'boolean', description: 'A real execution behind a true-up' },
        superseded_qty: { ...decimal('Of a synthetic fill, the quantity real executions replaced as of to_lsn (or as_of_lsn) and to_ms; null when not known'), type: ['string', 'null'] },
        superseded: nullable('boolean', 'A synthetic fill wholly replaced by real executions; null when not known'),
        cash: decimal('Paid (negative) or received (positive) in the quote asset, as booked'),
        venue_time_ms: nullable('integer', "The venue's execution time"),
        at_ms: integer('When the gateway recorded it'),
      }),
      Posting: record({
        lsn: integer('The journal entry (log record) it belongs to'),
        seq: integer('Position within the entry; lsn.seq orders postings totally (the cursor is one)'),
        book: { type: 'string', description: 'The book: an account, or bookkeeping (venue, fees, funding) that only every-account readers see' },
        account: { type: 'string', description: 'The trading account it concerns' },
        asset: { type: 'string' },
        amount: decimal('Signed: positive adds to the book'),
        kind: { type: 'string', enum: ['funding', 'trade_base', 'trade_quote', 'fee'] },
        ref: { type: 'string', description: "The fill's execution id or the funding reference" },
        at_ms: integer('When it was recorded'),
      }),
      ReconcileBreak: record({
        key: { type: 'string' },
        check: { type: 'string', enum: [...RECONCILE_CHECKS] },
        what: { type: 'string' },
        expected: { type: 'string' },
        actual: { type: 'string' },
        first_seen_ms: { type: 'integer' },
        opened_lsn: integer('LSN of the record that opened it'),
        as_of_lsn: integer('The ledger position the reconcile compared at'),
      }),
    },
    paths: {
      '/v1/positions': accountRows('Positions: net quantity, average cost, realized and unrealized PnL at the venue mark', 'positions', 'Position'),
      '/v1/balances': accountRows('Balances per account and asset: total, reserved by open orders, available', 'balances', 'Balance'),
      '/v1/pnl': accountRows('PnL per account and asset: realized, unrealized at the marks, fees (each in the asset paid in), net', 'pnl', 'Pnl'),
      '/v1/fills': {
        get: read({
          summary: 'Fills in log order (synthetic fills marked with what real executions superseded), cursor pagination',
          errors: ['400', '401', '403', '503'],
          answer: jsonAnswer(
            `{ as_of_lsn, fills, next_cursor }: ${PAGED}`,
            record({ as_of_lsn: AS_OF_LSN, fills: rowsOf('Fill'), next_cursor: nullable('string', 'An LSN: the next page starts after it; null at the end') }),
          ),
          parameters: queryParameters(FILLS_QUERY, { ...RANGE, symbol: 'Only this symbol', order_id: 'Only fills of this order', cursor: 'next_cursor of the previous page' }),
        }),
      },
      '/v1/ledger': {
        get: read({
          summary: "The ledger's postings in log order (lsn.seq), cursor pagination",
          errors: ['400', '401', '403', '503'],
          answer: jsonAnswer(
            `{ as_of_lsn, postings, next_cursor }: ${PAGED}`,
            record({ as_of_lsn: AS_OF_LSN, postings: rowsOf('Posting'), next_cursor: nullable('string', 'lsn.seq: the next page starts after it; null at the end') }),
          ),
          parameters: queryParameters(LEDGER_QUERY, { ...RANGE, asset: 'Only this asset', book: 'Only this book', cursor: 'next_cursor of the previous page' }),
        }),
      },
      '/v1/stats': {
        get: read({
          summary: 'The back office itself: how far it trails the log, ledger counters and the query model (ledger, store, pending_rows, batches_written: every-account readers only, else null), open breaks (a trader or bot: those of its accounts)',
          errors: ['401', '503'],
          answer: jsonAnswer('Back office figures', ref('BackOfficeStats')),
        }),
      },
      '/v1/reconcile': {
        get: read({
          summary: 'Reconcile state: open breaks (a trader or bot sees those naming its accounts), the last run, the last error',
          errors: ['400', '401', '503'],
          answer: jsonAnswer('{ ok, open_breaks, open_break_count, next_cursor, last_run, last_error }', RECONCILE),
          parameters: queryParameters(RECONCILE_QUERY, { limit: 'Breaks per page, 1–1000 (default 100, capped at the configured page bound)', cursor: 'next_cursor of the previous page' }),
        }),
      },
    },
  }
}
