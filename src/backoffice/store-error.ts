/**
 * The query model's SQLite file (`<dataDir>/backoffice.sqlite`) cannot be used as a store at all: not a SQLite
 * database (another file, a truncated or overwritten one), a damaged one, or one whose tables are another program's
 * (`meta` without the columns this build writes). A store that opens but does not match the log is not this: it is
 * emptied and rebuilt (projector-start.ts). This one is refused with a stable code naming the file, never with
 * SQLite's bare message — the file is a projection of the log, so moving it aside is the remedy, and the start that
 * follows restores it from the newest snapshot's back-office section or rebuilds it from the log.
 *
 * - QUERY_MODEL_UNREADABLE: `path` names the file; `sqliteCode` is SQLite's (SQLITE_NOTADB, SQLITE_CORRUPT, ...).
 */

export type QueryModelStoreProblemCode = 'QUERY_MODEL_UNREADABLE'

export class QueryModelStoreError extends Error {
  override readonly name = 'QueryModelStoreError'
  readonly code: QueryModelStoreProblemCode = 'QUERY_MODEL_UNREADABLE'
  readonly sqliteCode: string | null

  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const sqliteCode = typeof (cause as { code?: unknown })?.code === 'string' ? ((cause as { code: string }).code) : null
    const said = cause instanceof Error ? cause.message : String(cause)
    super(
      `QUERY_MODEL_UNREADABLE: the query model ${path} cannot be opened as this build's store (${said}${sqliteCode === null ? '' : `, ${sqliteCode}`}); ` +
        'it is a projection of the log: move it aside (with its -wal and -shm files) and start again, which restores it from the newest snapshot or rebuilds it from the log',
      { cause },
    )
    this.sqliteCode = sqliteCode
  }
}
