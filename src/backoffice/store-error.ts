/**
 * Why the query model's SQLite file (`<dataDir>/backoffice.sqlite`) is refused at start, with a stable code naming the
 * file (never SQLite's bare message). A store that opens and merely does not match the log is not refused: it is
 * emptied and rebuilt (projector-start.ts).
 *
 * - QUERY_MODEL_UNREADABLE: not a store this build can use at all — not a SQLite database (another file, a truncated or
 *   overwritten one), a damaged one, or one whose tables are another program's (`meta` without the columns this build
 *   writes). `sqliteCode` is SQLite's (SQLITE_NOTADB, SQLITE_CORRUPT, ...). It is a projection of the log: moving it
 *   aside is the remedy, and the start that follows restores it from the newest snapshot's back-office section or
 *   rebuilds it from the log.
 * - QUERY_MODEL_BEYOND_LOG: it holds the log through an LSN past the log's end, on a log written with durability fsync.
 *   The back office writes only records the log has made durable, so the log lost records that were durable — and
 *   acknowledged — (a lost or renamed segment, a log restored from an older copy): starting would hand their LSNs and
 *   idempotency keys to new records. The snapshot beyond the log's end (LOG_BEHIND_SNAPSHOT) is the same witness.
 */

export type QueryModelStoreProblemCode = 'QUERY_MODEL_UNREADABLE' | 'QUERY_MODEL_BEYOND_LOG'

export class QueryModelStoreError extends Error {
  override readonly name = 'QueryModelStoreError'
  readonly sqliteCode: string | null

  private constructor(
    readonly code: QueryModelStoreProblemCode,
    readonly path: string,
    message: string,
    options: { cause?: unknown; sqliteCode?: string | null } = {},
  ) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.sqliteCode = options.sqliteCode ?? null
  }

  static unreadable(path: string, cause: unknown): QueryModelStoreError {
    const sqliteCode = typeof (cause as { code?: unknown })?.code === 'string' ? (cause as { code: string }).code : null
    const said = cause instanceof Error ? cause.message : String(cause)
    return new QueryModelStoreError(
      'QUERY_MODEL_UNREADABLE',
      path,
      `the query model ${path} cannot be opened as this build's store (${said}${sqliteCode === null ? '' : `, ${sqliteCode}`}); ` +
        'it is a projection of the log: move it aside (with its -wal and -shm files) and start again, which restores it from the newest snapshot or rebuilds it from the log',
      { cause, sqliteCode },
    )
  }

  static beyondLog(path: string, storeLsn: number, logLastLsn: number): QueryModelStoreError {
    return new QueryModelStoreError(
      'QUERY_MODEL_BEYOND_LOG',
      path,
      `the query model ${path} holds the log through LSN ${storeLsn}, the log ends at ${logLastLsn}: the back office writes only durable records, ` +
        'so records that were durable (and acknowledged) are missing from the log (a lost or renamed segment, a log restored from an older copy); ' +
        'restore the missing segments, or move the query model aside if it is not of this log (or the log was written with durability none, or set aside on purpose)',
    )
  }
}
