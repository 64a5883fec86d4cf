// The seal file beside a snapshot (seal-file.ts) follows its snapshot through the store: written durably with it,
// pruned with it, removed before a new file replaces its snapshot (it signs the old digest: left, the next start would
// refuse the new file, SEAL_INVALID), its temp file removed at start like a snapshot's, and copied with it by keepUpTo.
import { afterAll, expect, test } from 'bun:test'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo } from '../../../wal/index.ts'
import { encodeSnapshot, KERNEL_SECTION, readSealFile, sealFileName, snapshotFileName, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { removeTempDirs, tempDir } from '../../wal/support.ts'

afterAll(removeTempDirs)

function snapshotAt(lsn: number, fill: number, seal?: string) {
  const encoded = encodeSnapshot({ lsn, chainHead: 'ab'.repeat(32), createdAtMs: 0, kernelSchema: 'test' }, new Map([[KERNEL_SECTION, new Uint8Array(16).fill(fill)]]))
  return seal === undefined ? encoded : { ...encoded, seal }
}

const names = (dir: string): string[] => readdirSync(dir).filter((name) => name !== 'MANIFEST.json').sort()

test('a seal is written beside its snapshot and pruned with it; an orphan seal is pruned too', () => {
  const dir = tempDir('egress-seal-file-')
  const store = new SnapshotStore(dir, { io: nodeIo, keep: 1 })
  store.write(snapshotAt(10, 1, 'a.b.c'))
  expect(names(dir)).toEqual([snapshotFileName(10), sealFileName(snapshotFileName(10))])
  expect(store.readSeal({ file: snapshotFileName(10), path: join(dir, snapshotFileName(10)), lsn: 10 })).toEqual({ kind: 'present', jws: 'a.b.c' })
  writeFileSync(join(dir, sealFileName(snapshotFileName(5))), 'orphan')
  store.write(snapshotAt(20, 2))
  expect(names(dir)).toEqual([snapshotFileName(20)])
})

test('a snapshot replaced at its LSN loses the old seal; a temp seal file is removed at start; keepUpTo copies seals', () => {
  const dir = tempDir('egress-seal-file-')
  const store = new SnapshotStore(dir, { io: nodeIo, keep: 3 })
  store.write(snapshotAt(10, 1, 'a.b.c'))
  store.write(snapshotAt(10, 2))
  expect(existsSync(join(dir, sealFileName(snapshotFileName(10))))).toBe(false)
  store.write(snapshotAt(20, 3, 'd.e.f'))
  writeFileSync(join(dir, `${sealFileName(snapshotFileName(30))}.tmp`), 'torn')
  expect(store.removeTempFiles()).toEqual([`${sealFileName(snapshotFileName(30))}.tmp`])
  const kept = tempDir('egress-seal-kept-')
  store.keepUpTo(kept, 20, () => false)
  expect(names(kept)).toEqual([snapshotFileName(10), snapshotFileName(20), sealFileName(snapshotFileName(20))])
  expect(readSealFile(nodeIo, join(kept, sealFileName(snapshotFileName(20))))).toEqual({ kind: 'present', jws: 'd.e.f' })
})
