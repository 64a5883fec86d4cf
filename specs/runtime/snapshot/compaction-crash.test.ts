// A gateway killed in the middle of its automatic compaction (after a snapshot): before or after each segment's unlink
// or rename into the archive, and before the directory fsyncs. Every restart must come back with every acknowledged
// order, a log that opens, replay-verify clean, and the audit verifier finding no problem in the chain.
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { verifyLogDirectory } from '../../../src/audit/index.ts'
import { replayVerify } from '../../../src/runtime/snapshot/index.ts'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach } from '../harness.ts'
import { SimulatedCrash } from './faulty-io.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()

/**
 * The log's io, crashing at the `crashAt`-th step of a compaction once armed: each removal (a segment's unlink, or its
 * rename into the archive) and each directory fsync after the first removal is a step. From the crash on, every call
 * that changes the disk throws: the process is gone.
 */
function compactionCrashIo(crashAt: number): { io: WalIo; arm: () => void; steps: () => string[] } {
  const state = { armed: false, crashed: false, removed: 0, steps: [] as string[] }
  const step = (name: string): void => {
    if (state.crashed) throw new SimulatedCrash(`process already crashed (${name})`)
    if (!state.armed) return
    state.steps.push(name)
    if (state.steps.length === crashAt) {
      state.crashed = true
      throw new SimulatedCrash(`crash at compaction step ${crashAt} (${name})`)
    }
  }
  const dead = (name: string): void => {
    if (state.crashed) throw new SimulatedCrash(`process already crashed (${name})`)
  }
  const io: WalIo = {
    ...nodeIo,
    unlink: (path) => {
      if (path.endsWith('.seg')) step(`unlink ${path.slice(-24)}`)
      else dead('unlink')
      nodeIo.unlink(path)
    },
    rename: (from, to) => {
      if (to.includes('/archive/')) step(`archive ${from.slice(-24)}`)
      else dead('rename')
      nodeIo.rename(from, to)
    },
    fsyncDirectory: (path) => {
      if (state.armed && state.steps.length > 0) step(`fsync dir ${path.slice(-12)}`)
      else dead('fsyncDirectory')
      nodeIo.fsyncDirectory(path)
    },
    write: (fd, data, position) => {
      dead('write')
      nodeIo.write(fd, data, position)
    },
    fdatasyncOffLoop: (fd, done) => {
      dead('fdatasync')
      nodeIo.fdatasyncOffLoop(fd, done)
    },
  }
  return { io, arm: () => void (state.armed = true), steps: () => state.steps }
}

const MODES = ['delete', 'archive'] as const

describe('kill -9 in the middle of compaction', () => {
  for (const mode of MODES) {
    test(`${mode}: a crash at each step restarts with every acknowledged order and a verifiable chain`, async () => {
      let crashAt = 1
      for (;;) {
        const faulty = compactionCrashIo(crashAt)
        const world = await startWorld({
          seed: 700 + crashAt, wal: { segmentBytesMax: 4096, io: faulty.io }, snapshots: { keep: 1, atShutdown: false, compaction: mode },
        })
        await trade(world, { orders: 25, tag: `c${crashAt}`, seed: 700 + crashAt })
        await run(world, 100)
        const acked: string[] = []
        for (let index = 0; index < 5; index++) {
          const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59500', client_order_id: `acked-${crashAt}-${index}` }
          const placed = await world.gateway.place(traderA, body, null)
          if (placed.reply.kind === 'accepted') acked.push(placed.reply.orderId)
        }
        expect(acked).toHaveLength(5)
        faulty.arm()
        const outcome = await world.gateway.snapshot().then(() => 'done', (error: unknown) => String(error))
        const steps = faulty.steps()
        await crashWorld(world).catch(() => undefined)
        const restarted = await startWorld({ seed: 700 + crashAt, dir: world.dir, clock: world.clock, venue: world.venue, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
        worlds.push(restarted)
        const where = `${mode}, crash at step ${crashAt} (${steps.join(', ')}): ${outcome}`
        for (const orderId of acked) expect(restarted.gateway.engine.state.orders.has(orderId), where).toBe(true)
        const verified = replayVerify(world.dir, { from: 'auto' })
        expect(verified.problems, where).toEqual([])
        const audit = await verifyLogDirectory(join(world.dir, 'log'))
        expect(audit.problems, where).toEqual([])
        await restarted.gateway.stop()
        if (outcome === 'done') break // the compaction ran to its end: every step has had its crash
        crashAt++
      }
      expect(crashAt).toBeGreaterThan(2)
    }, 120_000)
  }
})
