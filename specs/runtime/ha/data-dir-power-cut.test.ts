// A power cut right after the first records of a brand-new data directory were acknowledged: `egress serve` and an
// HA node create the data dir as they take its lock (lockDataDir), and the log then creates log/ in it. Every
// directory entry on the way must be durable before a record is acknowledged (specs/support/power-cut-io.ts keeps
// the entries not fsynced in every possible subset).
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lockDataDir } from '../../../src/runtime/ha/data-dir-lock.ts'
import { openReadOnly, Wal } from '../../../wal/index.ts'
import { everySubset, powerCutIo } from '../../support/power-cut-io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-power-cut-'))
  dirs.push(dir)
  return dir
}

describe('a power cut after the first acknowledgement of a new data directory', () => {
  test('the data dir (two levels created by its lock) and its log come back with every acknowledged record', async () => {
    const root = tempDir()
    const scratch = tempDir()
    const io = powerCutIo(root)
    const dataDir = join(root, 'srv', 'data')
    const lock = lockDataDir(dataDir, { create: true, io })
    const wal = Wal.open(join(dataDir, 'log'), { io, durability: 'fsync', preallocateBytes: 0 })
    expect(await wal.append([{ type: 7, version: 1, payload: new TextEncoder().encode('acknowledged') }])).toEqual([1])
    const pending = io.pendingChanges()
    const lost = everySubset(pending.length).flatMap((keep, index) => {
      const tree = join(scratch, `cut-${index}`)
      io.materialize(tree, keep)
      const kept = pending.filter((change, at) => keep(change, at)).map((change) => change.label)
      try {
        return openReadOnly(join(tree, 'srv', 'data', 'log')).lastLsn === 1 ? [] : [kept]
      } catch {
        return [kept]
      }
    })
    // Before the fix: the lock made srv/ and srv/data/ with a plain mkdir, and the log's open fsynced only srv/data/
    // (for log/): 'mkdir srv' and 'mkdir srv/data' were never durable, and a cut without them lost the record.
    expect({ pending: pending.map((change) => change.label), lost }).toEqual({ pending: [], lost: [] })
    await wal.close()
    lock.release()
  })
})
