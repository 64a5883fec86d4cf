// A query model file (DIR/backoffice.sqlite) that is no store this build can use — not a SQLite database, a damaged
// one, another program's tables — is refused with QUERY_MODEL_UNREADABLE naming the file. Before the fix SQLite's bare
// error came out of the back office's open ("file is not a database", "no such column: last_lsn"): `egress serve`
// failed with that one line, no stable code, no file named. The file is left as it was; moved aside, the next start
// restores the query model from the snapshot's section and it matches a rebuild from the log.
import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { backOfficeOf, QueryModelStoreError } from '../../src/backoffice/index.ts'
import { worldsStoppedAfterEach } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { officeWorld, rebuiltDigest } from './office-restart.ts'

const worlds = worldsStoppedAfterEach()

const DAMAGES: { name: string; damage: (path: string) => void }[] = [
  { name: 'not a SQLite database', damage: (path) => writeFileSync(path, 'not a database '.repeat(400)) },
  { name: 'truncated', damage: (path) => writeFileSync(path, readFileSync(path).subarray(0, 5_000)) },
  {
    name: "another program's tables",
    damage: (path) => {
      rmSync(path)
      const db = new Database(path)
      db.exec('CREATE TABLE meta (id INTEGER PRIMARY KEY, owner TEXT)')
      db.exec("INSERT INTO meta VALUES (1, 'someone else')")
      db.close()
    },
  },
]

describe('a query model file that is no usable store', () => {
  for (const [index, { name, damage }] of DAMAGES.entries()) {
    test(`${name}: refused with QUERY_MODEL_UNREADABLE naming the file, left as it was; moved aside, it is restored`, async () => {
      const seed = 640 + index
      const first = await officeWorld(worlds, seed)
      backOfficeOf(first.gateway, { reconcileIntervalMs: null })
      await trade(first, { orders: 12, tag: `q${seed}`, seed })
      await first.gateway.stop() // the shutdown snapshot carries the back-office section
      const path = join(first.dir, 'backoffice.sqlite')
      for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true })
      damage(path)
      const damaged = readFileSync(path)

      const second = await officeWorld(worlds, seed, first)
      let caught: unknown = null
      try {
        backOfficeOf(second.gateway, { reconcileIntervalMs: null })
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(QueryModelStoreError)
      expect((caught as QueryModelStoreError).code).toBe('QUERY_MODEL_UNREADABLE')
      expect((caught as QueryModelStoreError).path).toBe(path)
      expect((caught as Error).message).toContain(path)
      expect(readFileSync(path).equals(damaged)).toBe(true)
      await second.gateway.stop()

      renameSync(path, `${path}.damaged`)
      const third = await officeWorld(worlds, seed, first)
      const office = backOfficeOf(third.gateway, { reconcileIntervalMs: null })
      expect(office.projector.restoredStore).toBe(true)
      office.projector.flush()
      expect(office.projector.store.contentDigest().digest).toBe(rebuiltDigest(first.dir))
      expect(existsSync(`${path}.damaged`)).toBe(true)
    })
  }
})
