/**
 * The query model's content digest: per table, the row count and a SHA-256 over its rows in key order (amounts as
 * their canonical text), and one digest over the position and every table — the query model's identity, independent
 * of batches and file layout. Which tables it covers depends on the query model version (store-schema.ts).
 */

import type { Database } from 'bun:sqlite'
import { digestTables } from './store-schema.ts'

export interface QueryModelDigest {
  lastLsn: number
  lastHash: string
  /** SHA-256 over the position and every table's digest. */
  digest: string
  tables: Record<string, { rows: number; sha256: string }>
}

/**
 * Digests the tables of a query model of `version` (store-schema.ts digestTables: a store's own unless a caller
 * compares it with a digest an older build recorded), table by table, row by row (fields joined by a unit
 * separator); yields every `rowsPerSlice` rows.
 */
export function* digestSteps(
  db: Database,
  options: { position: { lastLsn: number; lastHash: string }; version: number; rowsPerSlice: number },
): Generator<void, QueryModelDigest> {
  const { position, version, rowsPerSlice } = options
  const tables: Record<string, { rows: number; sha256: string }> = {}
  const all = new Bun.CryptoHasher('sha256')
  all.update(`meta\n${position.lastLsn}\n${position.lastHash}\n`)
  let sinceYield = 0
  for (const [table, order] of digestTables(version)) {
    const hasher = new Bun.CryptoHasher('sha256')
    let rows = 0
    for (const row of db.query(`SELECT * FROM ${table} ORDER BY ${order}`).iterate() as IterableIterator<Record<string, unknown>>) {
      hasher.update(`${Object.values(row).map((value) => (value === null ? '\u0000' : String(value))).join('\u001f')}\n`)
      rows++
      if (++sinceYield >= rowsPerSlice) {
        sinceYield = 0
        yield
      }
    }
    const sha256 = hasher.digest('hex')
    tables[table] = { rows, sha256 }
    all.update(`${table}\n${rows}\n${sha256}\n`)
  }
  return { lastLsn: position.lastLsn, lastHash: position.lastHash, digest: all.digest('hex'), tables }
}
