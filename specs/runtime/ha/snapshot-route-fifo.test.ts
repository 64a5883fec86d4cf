/**
 * A leader's `GET /replication/snapshot` reads its newest snapshots' files (src/http/routes/replication.ts). A FIFO
 * under a snapshot's name was read with a blocking open, which waited for a writer with the leader's event loop held:
 * intake, replication and its lease renewals stopped for as long. It now reads as empty and is passed over as damaged,
 * at once; the snapshot behind it is served. Here a writer comes after 3 s, so a regression fails (slow) instead of
 * hanging the run.
 */

import { afterEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { SNAPSHOT_HEADERS, standbyRequestHeaders } from '../../../src/runtime/ha/index.ts'
import { snapshotFileName } from '../../../src/runtime/snapshot/index.ts'
import { trade } from '../snapshot/support.ts'
import { compactingLeader } from './compacting-leader.ts'
import { TOKEN } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test('a FIFO named as the newest snapshot is passed over at once; the snapshot behind it is served', async () => {
  const { world, url } = await compactingLeader(5705, cleanups)
  await trade(world, { orders: 6, tag: 'f', seed: 5705 })
  const taken = await world.gateway.snapshot()
  expect(taken).not.toBeNull()
  const fifo = join(world.dir, 'snapshots', snapshotFileName((taken?.lsn ?? 0) + 1_000_000))
  expect(Bun.spawnSync(['mkfifo', fifo]).exitCode).toBe(0)
  const writer = Bun.spawn(['sh', '-c', `sleep 3; printf x > '${fifo}'`])
  cleanups.push(() => writer.kill())

  const started = performance.now()
  const response = await fetch(`${url}/replication/snapshot`, { headers: standbyRequestHeaders(TOKEN) })
  await response.arrayBuffer()
  expect(performance.now() - started).toBeLessThan(1_500)
  expect(response.status).toBe(200)
  expect(response.headers.get(SNAPSHOT_HEADERS.lsn)).toBe(String(taken?.lsn))
}, 60_000)
