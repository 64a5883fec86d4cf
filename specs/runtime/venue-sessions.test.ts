/**
 * GatewayOptions.venueSessions (src/runtime/gateway.ts): venue sessions that keep their state in the log (FIX's
 * sequence numbers) start on the restored gateway and are waited for before bootstrap records anything, and they are
 * stopped while the log is still open — at the gateway's stop (once), and when a start fails after starting them.
 */

import { describe, expect, test } from 'bun:test'
import { encodeFixSeqNumsRecord } from '../../src/venues/fix/index.ts'
import type { Gateway, VenueSessions } from '../../src/runtime/gateway.ts'
import { removeDir, startWorld, tempDataDir, worldsStoppedAfterEach } from './harness.ts'
import { SimClock } from '../../src/runtime/index.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 11
const record = encodeFixSeqNumsRecord('fx', { nextSenderSeqNum: 7, nextTargetSeqNum: 5 })

describe('venue sessions living on the log', () => {
  test('start runs on the restored gateway and bootstrap waits for it; its records come before bootstrap\'s', async () => {
    const clock = new SimClock({ startMs: 1_767_225_600_000 })
    const seen: { bootstrapped: boolean; lastLsn: number; appendedLsn: number; lastLsnAtLogon: number } = { bootstrapped: true, lastLsn: -1, appendedLsn: -1, lastLsnAtLogon: -1 }
    const sessions: VenueSessions = {
      async start(gateway: Gateway) {
        seen.bootstrapped = gateway.bootstrapReport !== null
        seen.lastLsn = gateway.engine.wal.lastLsn
        ;[seen.appendedLsn] = (await gateway.engine.appendRecords([record])) as [number]
        // The Logon takes a while: bootstrap records nothing meanwhile.
        await new Promise<void>((resolve) => clock.schedule(2_000, resolve))
        seen.lastLsnAtLogon = gateway.engine.wal.lastLsn
      },
      stop: () => Promise.resolve(),
    }
    const world = await startWorld({ seed: SEED, clock, venueSessions: sessions })
    worlds.push(world)
    expect(seen.bootstrapped).toBe(false)
    expect(seen.appendedLsn).toBe(seen.lastLsn + 1)
    expect(seen.lastLsnAtLogon).toBe(seen.appendedLsn)
    expect(world.gateway.engine.wal.lastLsn).toBeGreaterThan(seen.appendedLsn)
    expect(world.gateway.bootstrapReport).not.toBeNull()
    expect(world.gateway.ready).toBe(true)
  })

  test('the gateway\'s stop ends them first, once, while the log still takes records', async () => {
    const stops: { appended: boolean; ready: boolean }[] = []
    let gateway: Gateway | null = null
    const sessions: VenueSessions = {
      async start(started) {
        gateway = started
      },
      async stop() {
        const appended = await (gateway as Gateway).engine.appendRecords([record]).then(() => true, () => false)
        stops.push({ appended, ready: (gateway as Gateway).ready })
      },
    }
    const world = await startWorld({ seed: SEED, venueSessions: sessions })
    await Promise.all([world.gateway.stop(), world.gateway.stop()])
    expect(stops).toEqual([{ appended: true, ready: false }])
    removeDir(world.dir)
  })

  test('a start that fails after starting them stops them before the log closes', async () => {
    const dir = tempDataDir()
    const stops: { appended: boolean }[] = []
    let gateway: Gateway | null = null
    const sessions: VenueSessions = {
      async start(started) {
        gateway = started
        throw new Error('the venue refused the session')
      },
      async stop() {
        const appended = await (gateway as Gateway).engine.appendRecords([record]).then(() => true, () => false)
        stops.push({ appended })
      },
    }
    await expect(startWorld({ seed: SEED, dir, venueSessions: sessions })).rejects.toThrow('the venue refused the session')
    expect(stops).toEqual([{ appended: true }])
    expect((gateway as Gateway | null)?.engine.wal.isClosed).toBe(true)
    removeDir(dir)
  })
})
