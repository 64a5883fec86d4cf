// Retention prunes snapshot files that are damaged, not ones it could not read. A write reads every snapshot file the
// manifest does not list (a crash left it out, or the manifest was lost) to learn its entry; one that failed to read
// (EMFILE, EACCES: the file never looked at) was taken for damaged and deleted, though well within `keep` — with the
// manifest lost, every older snapshot a passing EMFILE met went, and with them the fallbacks a start and compaction have.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { encodeSnapshot, KERNEL_SECTION, MANIFEST_NAME, snapshotFileName, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A snapshot file at `lsn` (the store checks digest and framing only; its state is never decoded here). */
function snapshotAt(lsn: number): ReturnType<typeof encodeSnapshot> {
  return encodeSnapshot({ lsn, chainHead: '00'.repeat(32), createdAtMs: lsn, kernelSchema: 'spec' }, new Map([[KERNEL_SECTION, new Uint8Array([lsn])]]))
}

/** A store over an io whose opens of `unreadable` fail with EMFILE. */
function storeWithUnreadable(unreadable: Set<string>): { store: SnapshotStore; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'egress-prune-'))
  dirs.push(root)
  const dir = join(root, 'snapshots')
  const io: WalIo = {
    ...nodeIo,
    openRead: (path) => {
      if ([...unreadable].some((name) => path.endsWith(name))) throw Object.assign(new Error(`EMFILE: too many open files, open '${path}'`), { code: 'EMFILE', syscall: 'open' })
      return nodeIo.openRead(path)
    },
  }
  return { store: new SnapshotStore(dir, { io, keep: 3 }), dir }
}

describe('snapshot retention', () => {
  test('a snapshot file that could not be read is kept; a damaged one is pruned', () => {
    const unreadable = new Set<string>()
    const { store, dir } = storeWithUnreadable(unreadable)
    store.write(snapshotAt(10))
    store.write(snapshotAt(20))
    unlinkSync(join(dir, MANIFEST_NAME)) // lost: every file is read to learn its entry
    unreadable.add(snapshotFileName(10))
    store.write(snapshotAt(30))
    expect(readdirSync(dir).sort()).toEqual([snapshotFileName(10), snapshotFileName(20), snapshotFileName(30), MANIFEST_NAME].sort())
    // Readable again: a later write knows it, and retention (keep 3) prunes it as the oldest.
    unreadable.clear()
    store.write(snapshotAt(40))
    expect(readdirSync(dir).sort()).toEqual([snapshotFileName(20), snapshotFileName(30), snapshotFileName(40), MANIFEST_NAME].sort())

    // A damaged file left out of the manifest is no snapshot: pruned, as before.
    writeFileSync(join(dir, snapshotFileName(35)), 'not a snapshot')
    store.write(snapshotAt(50))
    expect(readdirSync(dir)).not.toContain(snapshotFileName(35))
  })
})
