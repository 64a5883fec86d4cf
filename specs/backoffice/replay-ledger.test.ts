import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { ledgerFigures, ledgerVsReplay } from '../../src/backoffice/internal-checks.ts'
import { ReplayLedger } from '../../src/backoffice/replay-ledger.ts'
import { openSlice, type Wal } from '../../wal/index.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

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
    // Filled before the next: a marketable buy and sell of one account in flight together cross (SELF_TRADE_PREVENTED).
    await run(target, 100)
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
  test('folded from a slice of the log read from its files (as the replay worker reads it), it ends where a fold of the log ends', async () => {
    const target = await tradedWorld(41, 40)
    const wal = target.gateway.engine.wal
    const live = backOfficeOf(target.gateway, { reconcileIntervalMs: null }).projector.ledger
    expect(wal.lastLsn).toBeGreaterThan(200)
    const fromFiles = new ReplayLedger()
    fromFiles.start('genesis')
    // Two slices: the second starts mid-segment, where the first stopped.
    const half = Math.floor(live.lastLsn / 2)
    expect(fromFiles.foldTo(openSlice(wal.slice(1, half)), half)).toBe('done')
    expect(fromFiles.foldTo(openSlice(wal.slice(half + 1, live.lastLsn)), live.lastLsn)).toBe('done')
    expect(fromFiles.foldedLsn).toBe(live.lastLsn)
    const whole = new ReplayLedger()
    whole.start('genesis')
    whole.foldTo(wal, live.lastLsn)
    expect(ledgerVsReplay(ledgerFigures(fromFiles.ledger), ledgerFigures(whole.ledger))).toEqual([])
    expect(ledgerVsReplay(ledgerFigures(live), ledgerFigures(fromFiles.ledger))).toEqual([])
  })

  test('a later fold reads only what the log gained since the last one', async () => {
    const target = await tradedWorld(42, 10)
    const starts: number[] = []
    const wal = notingReads(target.gateway.engine.wal, starts)
    const replay = new ReplayLedger()
    replay.start('genesis')
    const first = target.gateway.engine.wal.lastLsn
    replay.foldTo(wal, first)
    await trade(target, 10, 'q')
    replay.foldTo(wal, target.gateway.engine.wal.lastLsn)
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
