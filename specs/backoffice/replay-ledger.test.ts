import { afterEach, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice.ts'
import { ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { REPLAY_SLICE_DEFAULTS, ReplayLedger } from '../../src/backoffice/replay-ledger.ts'
import type { Wal } from '../../wal/index.ts'
import { drive, removeDir, run, startWorld, traderA, type World } from '../runtime/harness.ts'

const worlds: World[] = []
afterEach(async () => {
  for (const world of worlds.splice(0)) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

async function tradedWorld(seed: number, orders: number, prefix = 'p'): Promise<World> {
  const target = await startWorld({ seed })
  worlds.push(target)
  await trade(target, orders, prefix)
  return target
}

async function trade(target: World, orders: number, prefix: string): Promise<void> {
  for (let index = 0; index < orders; index++) {
    const side = index % 2 === 0 ? 'buy' : 'sell'
    const body = { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty: '0.01', price: side === 'buy' ? '61000' : '59000', client_order_id: `${prefix}-${index}` }
    const result = await target.gateway.place(traderA, body, null)
    expect(result.reply.kind).toBe('accepted')
  }
  await run(target, 300)
}

/** The real log, with every read's starting LSN noted. */
function notingReads(wal: Wal, starts: number[]): Wal {
  return new Proxy(wal, {
    get(target, property) {
      if (property === 'read') return (fromLsn: number, options?: object) => (starts.push(fromLsn), target.read(fromLsn, options))
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

describe('replay ledger', () => {
  test('folds in bounded slices with an event-loop turn between them, ending where a fold in one go ends', async () => {
    const target = await tradedWorld(41, 40)
    const wal = target.gateway.engine.wal
    const live = backOfficeOf(target.gateway, { reconcileIntervalMs: null }).projector.ledger
    expect(wal.lastLsn).toBeGreaterThan(200)
    const sliced = new ReplayLedger({ sliceMs: 0 })
    sliced.start('genesis')
    let pauses = 0
    await sliced.advance(wal, live.lastLsn, async () => void pauses++)
    // sliceMs 0: every slice ends at its first look at the clock, one per framesPerClockCheck frames.
    expect(pauses).toBe(Math.ceil(live.lastLsn / REPLAY_SLICE_DEFAULTS.framesPerClockCheck) - 1)
    expect(sliced.foldedLsn).toBe(live.lastLsn)
    const whole = new ReplayLedger()
    whole.start('genesis')
    whole.foldTo(wal, live.lastLsn)
    expect(ledgerVsReplay(sliced.ledger, whole.ledger)).toEqual([])
    expect(ledgerVsReplay(live, sliced.ledger)).toEqual([])
  })

  test('a later advance reads only what the log gained since the last one', async () => {
    const target = await tradedWorld(42, 10)
    const starts: number[] = []
    const wal = notingReads(target.gateway.engine.wal, starts)
    const replay = new ReplayLedger({ sliceMs: 60_000 })
    replay.start('genesis')
    const first = target.gateway.engine.wal.lastLsn
    await replay.advance(wal, first, async () => undefined)
    await trade(target, 10, 'q')
    await replay.advance(wal, target.gateway.engine.wal.lastLsn, async () => undefined)
    expect(starts).toEqual([1, first + 1])
    expect(replay.foldedLsn).toBe(target.gateway.engine.wal.lastLsn)
  })

  test('kept between reconcile runs, it stays independent: a live ledger that leaves the log is a ledger_vs_replay break', async () => {
    const target = await tradedWorld(43, 6)
    const office = backOfficeOf(target.gateway, { reconcileIntervalMs: null })
    const clean = await drive(target, office.reconcile())
    expect(clean.observations).toEqual([])
    await trade(target, 6, 'q')
    // A projector bug, simulated: the live ledger's position drifts from what the log says.
    const position = [...office.projector.ledger.positions.values()][0]
    if (position === undefined) throw new Error('no position')
    position.realizedPnl += 1n
    const found = await drive(target, office.reconcile())
    expect(found.checks).toContain('ledger_vs_replay')
    expect(found.opened.filter((key) => key.startsWith('ledger_vs_replay:'))).toEqual([`ledger_vs_replay:position:acct-a:${position.venue}:${position.symbol}:realized_pnl`])
  })
})
