/**
 * Gateway.stop runs once: a second call while the first is under way (an HA node's stop() tearing down a gateway that
 * a role change it waited out was already stopping) waits for the first instead of sealing, snapshotting and closing
 * the log a second time.
 */

import { expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly } from '../../wal/index.ts'
import { startWorld, worldsStoppedAfterEach } from './harness.ts'
import { trade } from './snapshot/support.ts'

const worlds = worldsStoppedAfterEach()

test('two stops at once: both resolve, the log is closed once, one shutdown snapshot is written, the log ends where the first stop left it', async () => {
  const world = await startWorld({ seed: 57 })
  worlds.push(world)
  await trade(world, { orders: 5, tag: 's', seed: 57 })
  const errors: string[] = []
  const wal = world.gateway.engine.wal
  const close = wal.close.bind(wal)
  let closes = 0
  wal.close = () => {
    closes++
    return close()
  }
  const first = world.gateway.stop().catch((error: unknown) => errors.push(String(error)))
  const second = world.gateway.stop().catch((error: unknown) => errors.push(String(error)))
  await Promise.all([first, second])
  const snapshots = readdirSync(join(world.dir, 'snapshots')).filter((name) => name.endsWith('.snap'))
  const lastLsn = openReadOnly(join(world.dir, 'log')).lastLsn
  // A later stop (the harness's, after the test) still answers at once, writing nothing.
  await world.gateway.stop()
  expect({ errors, closes, snapshots: snapshots.length, logUnchanged: openReadOnly(join(world.dir, 'log')).lastLsn === lastLsn }).toEqual({ errors: [], closes: 1, snapshots: 1, logUnchanged: true })
}, 30_000)
