// A power cut right after the first snapshot of a data directory was written (the page cache lost, the directory
// entries not fsynced kept in every possible subset: specs/support/power-cut-io.ts). The snapshot must come back:
// a running gateway compacts the log below it at once, and without it the records below are gone for good.
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeSnapshot, KERNEL_SECTION, snapshotFileName, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
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

describe('a power cut after a snapshot was written', () => {
  test('the first snapshot, in a snapshots/ the write created, survives with its directory', () => {
    const dataDir = tempDir()
    const scratch = tempDir()
    const io = powerCutIo(dataDir)
    const snapshot = encodeSnapshot(
      { lsn: 7, chainHead: 'ab'.repeat(32), createdAtMs: 0, kernelSchema: 'kernel-state/spec' },
      new Map([[KERNEL_SECTION, new TextEncoder().encode('the kernel state')]]),
    )
    new SnapshotStore(join(dataDir, 'snapshots'), { io, keep: 2 }).write(snapshot)
    const file = snapshotFileName(7)
    const pending = io.pendingChanges()
    const lost = everySubset(pending.length).flatMap((keep, index) => {
      const tree = join(scratch, `cut-${index}`)
      io.materialize(tree, keep)
      const path = join(tree, 'snapshots', file)
      const intact = existsSync(path) && Buffer.from(readFileSync(path)).equals(Buffer.from(snapshot.bytes))
      return intact ? [] : [pending.filter((change, at) => keep(change, at)).map((change) => change.label)]
    })
    // Before the fix: 'mkdir snapshots' was never fsynced in the data directory, so a cut that did not keep it lost
    // the snapshot (its own directory fsync makes the file durable in snapshots/, not snapshots/ in the data dir).
    expect({ pending: pending.map((change) => change.label), lost }).toEqual({ pending: [], lost: [] })
  })
})
