// The newest snapshot file at the log's last LSN is damaged (a flipped byte): a start reports it and replays from an
// older one. Before the fix, a snapshot at that same LSN was then never written: `egress snapshot` said "already
// current; nothing written" (exit 0) right after reporting the file DIGEST_MISMATCH, and a gateway's snapshot (on
// demand, at shutdown) answered "nothing changed" — the name alone counted, so the damaged file stayed the newest until
// new records came (a gateway's start usually records some, so the engine is past it: the spec takes a snapshot of an
// engine replayed to the log's end). Now only an intact file at that LSN makes a snapshot unnecessary; a damaged one
// is replaced.
import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly } from '../../../wal/index.ts'
import { removeDir, startWorld, type World } from '../harness.ts'
import { cli } from '../../cli/io.ts'
import { expectRunningSnapshotReplaces, newestValid } from './newest-replaced.ts'
import { trade } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A stopped world whose newest snapshot (at the log's end) has one byte flipped; returns its file name and LSN. */
async function damagedNewest(seed: number): Promise<{ world: World; file: string; lsn: number }> {
  const world = await startWorld({ seed, snapshots: { keep: 3 } })
  dirs.push(world.dir)
  await trade(world, { orders: 10, tag: `d${seed}`, seed })
  await world.gateway.snapshot()
  await trade(world, { orders: 4, tag: `e${seed}`, seed: seed + 1 })
  await world.gateway.stop() // the shutdown snapshot, at the log's last LSN
  const snapshots = join(world.dir, 'snapshots')
  const file = readdirSync(snapshots).filter((name) => name.endsWith('.snap')).sort().at(-1) as string
  const bytes = readFileSync(join(snapshots, file))
  const middle = bytes.byteLength >> 1
  bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle)
  writeFileSync(join(snapshots, file), bytes)
  const lsn = openReadOnly(join(world.dir, 'log')).lastLsn
  expect(file).toContain(String(lsn))
  return { world, file, lsn }
}

describe('a damaged snapshot at the log\'s last LSN', () => {
  test('egress snapshot replaces it with an intact one at that LSN', async () => {
    const { world, file, lsn } = await damagedNewest(670)
    expect(newestValid(world.dir)).toBeLessThan(lsn)
    const run = await cli(['snapshot', world.dir])
    expect(run.code).toBe(0)
    expect(run.err).toContain(`snapshot ${file} not used: DIGEST_MISMATCH`)
    expect(run.out).toContain(`snapshot ${file} written: LSN ${lsn}`)
    expect(newestValid(world.dir)).toBe(lsn)
    expect((await cli(['replay-verify', world.dir])).code).toBe(0)
  })

  test('a snapshot taken of a running engine at that LSN replaces it, though no record came since', async () => {
    const { world, lsn } = await damagedNewest(671)
    await expectRunningSnapshotReplaces(world.dir, lsn, world.clock.nowMs())
  })
})
