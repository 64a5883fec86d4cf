// A file in snapshots/ named like a snapshot but at an LSN no log reaches (twenty digits beyond 2^53 − 1): egress never
// writes one, so it is not a snapshot. Before the fix its name was parsed as one, its LSN rounded by Number, and the
// start took it as the newest snapshot's LSN for the log's chain anchor: Wal.open refused the options
// ("chainAnchorLsn must be an integer ≥ 0, got 100000000000000000000") and the gateway did not start at all, where
// a damaged snapshot is reported and passed over.
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseSnapshotFileName } from '../../../src/runtime/snapshot/index.ts'
import { removeDir, startWorld, type World } from '../harness.ts'
import { cli } from '../../cli/io.ts'
import { trade } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const STRAY = ['snapshot-99999999999999999999.snap', 'snapshot-00009007199254740993.snap', 'snapshot-00000000000000000000.snap']

describe('files named beyond any LSN in the snapshot directory', () => {
  test('are not snapshots: the name gives no LSN', () => {
    for (const name of STRAY) expect(parseSnapshotFileName(name)).toBeNull()
    expect(parseSnapshotFileName('snapshot-00009007199254740991.snap')).toBe(Number.MAX_SAFE_INTEGER)
    expect(parseSnapshotFileName('snapshot-00000000000000000001.snap')).toBe(1)
  })

  for (const name of STRAY) {
    test(`${name}: the gateway starts from the newest real snapshot; snapshot, compact and replay-verify run; the file is left alone`, async () => {
      const first = await startWorld({ seed: 660 })
      dirs.push(first.dir)
      await trade(first, { orders: 10, tag: 'stray', seed: 660 })
      await first.gateway.stop() // the shutdown snapshot
      const stray = join(first.dir, 'snapshots', name)
      writeFileSync(stray, 'not a snapshot')
      let second: World | null = null
      try {
        second = await startWorld({ seed: 660, dir: first.dir, clock: first.clock, venue: first.venue, snapshots: { atShutdown: false } })
        expect(second.gateway.restoreReport?.snapshot).not.toBeNull()
        expect(second.gateway.restoreReport?.rejected).toEqual([])
      } finally {
        await second?.gateway.stop()
      }
      expect((await cli(['replay-verify', first.dir])).code).toBe(0)
      expect((await cli(['snapshot', first.dir])).code).toBe(0)
      expect((await cli(['compact', first.dir, '--dry-run'])).code).toBe(0)
      expect(existsSync(stray)).toBe(true)
    })
  }
})
