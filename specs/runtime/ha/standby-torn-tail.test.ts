/**
 * A standby's open of its replica log cuts a torn tail as a leader's open does, and keeps the removed bytes first in
 * `<dataDir>/quarantine/` (before, a standby's cut kept no copy). No witness refuses the cut: an HA node's log follows
 * its leader's.
 */

import { describe, expect, test } from 'bun:test'
import { cpSync, readdirSync, readFileSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import { Gateway } from '../../../src/runtime/index.ts'
import { crashWorld, removeDir, run, startWorld, tempDataDir, traderA, worldsStoppedAfterEach } from '../harness.ts'
import { standbyOptionsOf } from '../harness.ts'

const worlds = worldsStoppedAfterEach()

describe('a standby\'s replica log with a torn tail', () => {
  test('is cut on open, the removed bytes kept in quarantine/', async () => {
    const world = await startWorld({ seed: 3 })
    worlds.push(world)
    for (let index = 0; index < 5; index++) {
      const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: `torn-${index}` }
      expect((await world.gateway.place(traderA, body, null)).reply.kind).toBe('accepted')
    }
    await run(world, 500)
    await crashWorld(world)
    const dataDir = tempDataDir()
    cpSync(join(world.dir, 'log'), join(dataDir, 'log'), { recursive: true })
    const segment = join(dataDir, 'log', readdirSync(join(dataDir, 'log')).filter((name) => name.endsWith('.seg')).sort().at(-1) as string)
    const whole = readFileSync(segment)
    truncateSync(segment, whole.byteLength - 20)
    const errors: string[] = []
    const standby = await Gateway.start(standbyOptionsOf(world, dataDir, errors))
    try {
      const torn = standby.engine.wal.recovery.tornTail
      expect(torn?.truncated).toBe(true)
      const kept = torn?.quarantineFile ?? ''
      expect(kept.startsWith(join(dataDir, 'quarantine'))).toBe(true)
      expect(new Uint8Array(readFileSync(kept))).toEqual(new Uint8Array(whole.subarray(torn?.offsetBytes ?? 0, whole.byteLength - 20)))
      expect(errors).toEqual([])
    } finally {
      await standby.stop()
      removeDir(dataDir)
    }
  })
})
