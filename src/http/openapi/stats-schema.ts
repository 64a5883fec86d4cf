/**
 * The body of `GET /v1/stats` (statsView in routes/backoffice.ts), field by field: how far the back office trails the
 * log, where it started from, its ledger's counters, the query model's rows, rows pending and batches written
 * (counts over every account: every-account readers only, null otherwise) and the caller's open breaks. The route builds its answer as BackOfficeStatsBody, so tsc holds it to this schema; the document's
 * /v1/stats answer is generated from it, and specs/http/openapi-shapes.test.ts holds real answers to the document.
 */

import * as v from 'valibot'
import { count, flag, orNull, text } from './answer-fields.ts'

const LEDGER = v.strictObject({
  entries: count('Journal entries booked (each balances per asset)'),
  postings: count('Postings'),
  fills: count('Fills booked'),
  fundings: count('Fundings booked'),
  orders: count('Orders held: open, and ended ones not yet retired (src/backoffice/retention.ts)'),
  orders_retired: count('Ended orders retired'),
  fills_unbooked: count('Fills of retired orders, not booked (each shows as a ledger_vs_kernel break)'),
  positions: count('Positions'),
})

const STORE = v.strictObject({
  postings: count('Rows'),
  fills: count('Rows'),
  true_up_fills: count('Rows: the real executions behind true-ups'),
  positions: count('Rows'),
  balances: count('Rows'),
  model_version: count('The query model version that wrote the store'),
  true_ups_untracked_through_lsn: count('Through this LSN the store holds no true-up fills (an upgraded older store; 0: it holds every one)'),
})

export const BACKOFFICE_STATS = v.strictObject({
  applied_lsn: count('Every log record up to it is in the ledger'),
  stored_lsn: count('The query model holds the ledger up to it'),
  log_last_lsn: count("The log's last LSN"),
  lag_records: count('Log records not yet in the query model'),
  pending_rows: orNull(count('Rows'), 'Rows waiting to be written to the query model; null unless the caller reads every account'),
  batches_written: orNull(count('Batches'), 'Batches written to the query model, as the store counts them; null unless the caller reads every account'),
  store_rebuilt_at_start: flag('The query model was rebuilt from the log at start'),
  store_resumed_from_lsn: count('The LSN the query model resumed from at start'),
  ledger_complete: flag('False when the log no longer starts at LSN 1 and the back office did not start from a snapshot section: its figures miss the compacted history'),
  section_lsn: orNull(count('LSN'), 'The snapshot section the back office started from; null: it replayed the log'),
  store_restored_from_section: flag("The stored query model was replaced by the section's copy (missing, behind, or not matching the log)"),
  section_problem: orNull(
    text('CODE: why'),
    "Why a snapshot section was refused; null: none was. The text (it may name an order or a position) to every-account readers; others get its code alone (STATE_INVALID, LOG_MISMATCH, FORMAT_VERSION, HEADER_INVALID, QUERY_MODEL_VERSION; SECTION_REFUSED for a text without one)",
  ),
  store_held: orNull(text('CODE: why'), 'Why the query model is written no further (LEDGER_INCOMPLETE: it holds compacted history the ledger lacks, kept as it is at stored_lsn); null: it is written'),
  ledger: orNull(LEDGER, "The ledger's counters, over every account; null unless the caller reads every account"),
  store: orNull(STORE, 'Rows of the query model, its model version and through which LSN it holds no true-up fills; null unless the caller reads every account'),
  open_breaks: count('Reconcile breaks open: every one for every-account readers; for a trader or bot, those of its accounts (as GET /v1/reconcile lists them)'),
  last_reconcile_lsn: orNull(count('LSN'), "The last reconcile run's record; null before the first"),
})

export type BackOfficeStatsBody = v.InferOutput<typeof BACKOFFICE_STATS>
