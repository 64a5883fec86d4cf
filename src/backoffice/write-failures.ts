/**
 * Query model writes that fail (SQLITE_BUSY: another connection holds the file's write lock; SQLITE_FULL; an I/O error),
 * as the projector handles them. A failed write is rolled back whole (store.ts), its rows stay pending and the next
 * flush writes them again: nothing is lost or written twice. So the timer's flush does not throw (it did, out of the
 * clock's callback: Bun exited 1 with SQLite's bare stack trace, the order path stopped mid-way); it is reported with a
 * stable code, counted per SQLite code, and retried at the next interval. A read that needs the query model current
 * gets QUERY_MODEL_UNAVAILABLE meanwhile (routes/backoffice.ts).
 *
 * Bounded: while writes fail, the pending rows grow with what the log commits. At PENDING_ROWS_FAILING_FACTOR ×
 * batchRowsMax the back office stops writing the query model (`stopped`): it drops the pending rows, keeps none more,
 * and the reads that need the query model answer 503 until a restart rebuilds it from the log (the log is the source of
 * truth; a projection that stopped loses nothing). The order path never waits for the query model and goes on.
 */

/** The stable code of a failed query model write (logs, /health, /v1/stats `store_held` once stopped). */
export const QUERY_MODEL_WRITE_FAILED = 'QUERY_MODEL_WRITE_FAILED'

/**
 * Pending rows, as a multiple of batchRowsMax, at which failing writes stop the query model. A healthy projector writes
 * at once above batchRowsMax (a flush on the next tick), so it holds little more than one batch; ten batches is a
 * failure lasting as long as ten batches of traffic, bounded in memory (50,000 rows by default, a few tens of MB) and in
 * the work of each retry (every pending row, in one transaction: ten times a normal batch).
 */
export const PENDING_ROWS_FAILING_FACTOR = 10

/** A write of the query model that failed: its SQLite code (SQLITE_BUSY, SQLITE_FULL, …), or null for another error. */
export class QueryModelWriteError extends Error {
  override readonly name = 'QueryModelWriteError'
  readonly code = QUERY_MODEL_WRITE_FAILED
  readonly sqliteCode: string | null

  constructor(path: string, cause: unknown) {
    const sqliteCode = typeof (cause as { code?: unknown } | null)?.code === 'string' ? (cause as { code: string }).code : null
    const said = cause instanceof Error ? cause.message : String(cause)
    super(`${QUERY_MODEL_WRITE_FAILED}: the query model ${path} could not be written (${said}${sqliteCode === null ? '' : `, ${sqliteCode}`})`, { cause })
    this.sqliteCode = sqliteCode
  }

  /** The code and SQLite's, without the path: what /health and the metrics show. */
  get shortCode(): string {
    return `${QUERY_MODEL_WRITE_FAILED} (${this.sqliteCode ?? 'not SQLite'})`
  }
}

/** Where the failures are told: one line per distinct failure in a run of them, one when writes resume or stop. */
export type WriteFailureReport = (error: Error, context: string) => void

export function reportToStderr(error: Error, context: string): void {
  console.error(`error: ${context}: ${error.message}`)
}

/** The failures of the query model's writes: counted per SQLite code, the current run of them, and the stop. */
export class WriteFailures {
  /** Failed writes per SQLite code ('none': not a SQLiteError), since the start: /metrics' counter. Bounded by SQLite's codes. */
  readonly counts = new Map<string, number>()
  /** The last failure of the run under way (writes failing since), or null when the last write succeeded. */
  failing: QueryModelWriteError | null = null
  /** Why the query model is written no further, or null. */
  stopped: QueryModelWriteError | null = null
  #runFailures = 0
  readonly #report: WriteFailureReport

  constructor(report: WriteFailureReport) {
    this.#report = report
  }

  /** Notes a failed write with `pendingRows` left pending; true when they reached `pendingRowsMax` (stop). */
  failed(error: QueryModelWriteError, pendingRows: number, pendingRowsMax: number): boolean {
    const label = error.sqliteCode ?? 'none'
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1)
    this.#runFailures++
    // Once per distinct failure: a store locked for a minute is one line, not one per interval.
    if (this.failing?.message !== error.message) this.#report(error, 'query model write (the rows stay pending; retried at the next flush)')
    this.failing = error
    if (pendingRows < pendingRowsMax) return false
    this.stopped = error
    this.#report(
      new Error(`${error.shortCode}: ${pendingRows} rows pending after ${this.#runFailures} failed writes (bound ${pendingRowsMax}); the query model is written no further and its reads answer 503 QUERY_MODEL_UNAVAILABLE until a restart rebuilds it from the log. Orders are not affected`),
      'query model stopped',
    )
    return true
  }

  /** Notes a write that succeeded: a run of failures ends. */
  succeeded(): void {
    if (this.failing === null) return
    this.#report(new Error(`written again after ${this.#runFailures} failed writes (the last: ${this.failing.shortCode}); nothing lost, nothing written twice`), 'query model write')
    this.failing = null
    this.#runFailures = 0
  }
}
