// A start that replaces the query model (DIR/backoffice.sqlite) with a snapshot section's copy stages the copy whole
// first (backoffice.sqlite.restore), then removes the old file's WAL and renames the copy over it (store-file.ts). A
// crash between the two leaves the staged copy, and the next start finishes the replacement before it opens the store.
// Before, the old WAL went first and the copy was written after it: a crash between the two left the old main file
// without its WAL — one a checkpoint was writing when an earlier crash came is whole only with its WAL — and the next
// start refused it QUERY_MODEL_UNREADABLE (crash review). A copy left half-written is removed, the store kept.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { storedQueryModelLastLsn } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { worldsStoppedAfterEach, type World } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { officeWorld, rebuiltDigest } from './office-restart.ts'

const worlds = worldsStoppedAfterEach()

/** A stopped world whose store is whole and closed (no -wal, no -shm), and the store's path. */
async function stoppedOffice(seed: number): Promise<{ first: World; path: string }> {
  const first = await officeWorld(worlds, seed)
  backOfficeOf(first.gateway, { reconcileIntervalMs: null })
  await trade(first, { orders: 12, tag: `r${seed}`, seed })
  await first.gateway.stop()
  const path = join(first.dir, 'backoffice.sqlite')
  for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true })
  return { first, path }
}

describe('a store replacement a crash interrupted', () => {
  test('after the copy was staged and the old WAL removed: the next start finishes it, and the store is the copy', async () => {
    const { first, path } = await stoppedOffice(661)
    copyFileSync(path, `${path}.restore`)
    // The old main file, unusable without the WAL the interrupted start removed (a checkpoint was writing it).
    writeFileSync(path, 'half a checkpoint '.repeat(400))
    // The offline commands read the store the next start opens: the staged copy, not the unusable file.
    expect(storedQueryModelLastLsn(first.dir)).toBe(openReadOnly(join(first.dir, 'log')).lastLsn)

    const second = await officeWorld(worlds, 661, first)
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    expect(existsSync(`${path}.restore`)).toBe(false)
    office.projector.flush()
    expect(office.projector.store.contentDigest().digest).toBe(rebuiltDigest(first.dir))
  })

  test('while the copy was being written: the half-written copy is removed and the store kept as it was', async () => {
    const { first, path } = await stoppedOffice(662)
    writeFileSync(`${path}.restore.tmp`, 'half a copy')

    const second = await officeWorld(worlds, 662, first)
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    expect(existsSync(`${path}.restore.tmp`)).toBe(false)
    expect(office.projector.restoredStore).toBe(false)
    office.projector.flush()
    expect(office.projector.store.contentDigest().digest).toBe(rebuiltDigest(first.dir))
  })
})
