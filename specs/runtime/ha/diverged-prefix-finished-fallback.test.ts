/**
 * A divergence whose swap fails after its commit (an EIO renaming the kept log into place) is finished before the node
 * follows again; if that kept log then does not start, the node falls back as the normal path does — the kept log set
 * aside too and a re-sync from scratch — instead of stopping (FOLLOW_FAILED), which a restart would repeat.
 */

import { afterEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { forkedPair, rejoiningNode } from './forked-pair.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  removeTempDirs()
})

test('a committed swap finished on the failure path whose kept log does not start: the node re-syncs from scratch (log_set_aside) and follows', async () => {
  const pair = await forkedPair(48)
  cleanups.push(pair.cleanup)
  let failed = 0
  const io: WalIo = {
    ...nodeIo,
    rename: (from, to) => {
      if (failed === 0 && to === join(pair.a.dir, 'log')) {
        failed++
        throw Object.assign(new Error('EIO: injected rename failure'), { code: 'EIO' })
      }
      nodeIo.rename(from, to)
    },
  }
  // Start 0 on the diverged log; start 1, on the kept prefix, fails (as in diverged-prefix.test 'a kept log that does not start').
  const rejoin = rejoiningNode(pair, { io, refuseStart: (index) => index === 1 })
  cleanups.push(() => rejoin.node.stop())
  await rejoin.node.start()
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && !(rejoin.node.lastDivergence?.outcome === 'log_set_aside' && rejoin.node.gateway !== null) && rejoin.node.failure === null) await Bun.sleep(20)
  expect({ failed, died: rejoin.node.failure?.message ?? null, divergence: rejoin.node.lastDivergence?.outcome, following: rejoin.node.gateway !== null }).toEqual({ failed: 1, died: null, divergence: 'log_set_aside', following: true })
}, 30_000)
