// The newest snapshot file at the log's last LSN is intact (digest and framing hold) but not usable: a later build's
// kernel encoding (SCHEMA_MISMATCH, after a rollback) or another log's chain head (CHAIN_MISMATCH). A start reports it
// and replays from an older one. Before the fix a snapshot at that same LSN was then never written: intact was taken
// for usable, so `egress snapshot` said "already current; nothing written" right after reporting the file not used,
// and a gateway's snapshot answered "nothing changed" — every start replayed from the older one, and compaction could
// never go past it. Now only a file this build would start from makes a snapshot at its LSN unnecessary.
import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeSnapshot, encodeSnapshot } from '../../../src/runtime/snapshot/index.ts'
import { openReadOnly } from '../../../wal/index.ts'
import { removeDir, startWorld, type World } from '../harness.ts'
import { cli } from '../../cli/io.ts'
import { expectRunningSnapshotReplaces, newestValid } from './newest-replaced.ts'
import { trade } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

type Unusable = 'schema' | 'chain'

/** A stopped world whose newest snapshot (at the log's end) is rewritten intact but unusable; its file and LSN. */
async function unusableNewest(seed: number, how: Unusable): Promise<{ world: World; file: string; lsn: number }> {
  const world = await startWorld({ seed, snapshots: { keep: 3 } })
  dirs.push(world.dir)
  await trade(world, { orders: 10, tag: `u${seed}`, seed })
  await world.gateway.snapshot()
  await trade(world, { orders: 4, tag: `v${seed}`, seed: seed + 1 })
  await world.gateway.stop() // the shutdown snapshot, at the log's last LSN
  const snapshots = join(world.dir, 'snapshots')
  const file = readdirSync(snapshots).filter((name) => name.endsWith('.snap')).sort().at(-1) as string
  const { header, sections } = decodeSnapshot(new Uint8Array(readFileSync(join(snapshots, file))))
  const meta = {
    lsn: header.lsn,
    createdAtMs: header.createdAtMs,
    chainHead: how === 'chain' ? 'ab'.repeat(32) : header.chainHead,
    kernelSchema: how === 'schema' ? 'kernel-state/v99/0123456789abcdef' : header.kernelSchema,
  }
  writeFileSync(join(snapshots, file), encodeSnapshot(meta, sections).bytes)
  const lsn = openReadOnly(join(world.dir, 'log')).lastLsn
  expect(file).toContain(String(lsn))
  return { world, file, lsn }
}

describe('an intact but unusable snapshot at the log\'s last LSN', () => {
  for (const [how, code, seed] of [['schema', 'SCHEMA_MISMATCH', 690], ['chain', 'CHAIN_MISMATCH', 692]] as const) {
    test(`egress snapshot replaces it (${code})`, async () => {
      const { world, file, lsn } = await unusableNewest(seed, how)
      expect(newestValid(world.dir)).toBeLessThan(lsn)
      const run = await cli(['snapshot', world.dir])
      expect(run.code).toBe(0)
      expect(run.err).toContain(`snapshot ${file} not used: ${code}`)
      expect(run.out).toContain(`snapshot ${file} written: LSN ${lsn}`)
      expect(newestValid(world.dir)).toBe(lsn)
      expect((await cli(['replay-verify', world.dir])).code).toBe(0)
    })

    test(`a snapshot of a running engine at that LSN replaces it (${code})`, async () => {
      const { world, lsn } = await unusableNewest(seed + 1, how)
      await expectRunningSnapshotReplaces(world.dir, lsn, world.clock.nowMs())
    })
  }
})
