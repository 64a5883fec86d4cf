import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { openReadOnly } from '../../wal/index.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import { latestEventAtMs } from '../../src/runtime/log-time.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { removeDir, run, startWorld, T0, tempDataDir, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir)
})

const HOUR_MS = 3_600_000

/** A simulated clock that honours Clock.notBefore as the wall clocks do: it gives the floor until its time passes it. */
class FlooredSimClock extends SimClock {
  readonly floors: number[] = []
  private floorMs = Number.NEGATIVE_INFINITY

  override nowMs(): number {
    return Math.max(super.nowMs(), this.floorMs)
  }

  notBefore(ms: number): void {
    this.floors.push(ms)
    this.floorMs = Math.max(this.floorMs, ms)
  }
}

function eventTimes(dir: string): { lsn: number; atMs: number }[] {
  const log = openReadOnly(join(dir, 'log'))
  const times: { lsn: number; atMs: number }[] = []
  for (const frame of log.read(log.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) times.push({ lsn: frame.lsn, atMs: event.atMs })
  }
  return times
}

function order(clientOrderId: string): Record<string, string> {
  return { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: clientOrderId }
}

describe('a restart on a clock stepped back', () => {
  test('decisions after the restart are stamped no earlier than the latest event the log holds', async () => {
    const dir = tempDataDir()
    dirs.push(dir)
    const ahead = new SimClock({ startMs: T0 + HOUR_MS })
    const first = await startWorld({ seed: 31, dir, clock: ahead })
    worlds.push(first)
    expect((await first.gateway.place(traderA, order('before-restart'), null)).reply.kind).toBe('accepted')
    await run(first, 500)
    await first.gateway.stop()
    const latestMs = latestEventAtMs(openReadOnly(join(dir, 'log')))
    expect(latestMs).not.toBeNull()
    expect(latestMs as number).toBeGreaterThanOrEqual(T0 + HOUR_MS)

    // The host's clock now reads an hour earlier (an NTP correction while the gateway was down).
    const behind = new FlooredSimClock({ startMs: T0 })
    const second = await startWorld({ seed: 31, dir, clock: behind })
    worlds.push(second)
    expect(behind.floors).toEqual([latestMs as number])
    // Said out loud: the host's clock needs looking at.
    expect(second.errors.filter((error) => error.startsWith('clock behind the log:'))).toHaveLength(1)
    expect((await second.gateway.place(traderA, order('after-restart'), null)).reply.kind).toBe('accepted')
    await run(second, 500)
    await second.gateway.stop()

    const times = eventTimes(dir)
    for (let index = 1; index < times.length; index++) {
      const [previous, current] = [times[index - 1], times[index]] as [{ lsn: number; atMs: number }, { lsn: number; atMs: number }]
      expect(current.atMs, `LSN ${current.lsn} stamped before LSN ${previous.lsn}`).toBeGreaterThanOrEqual(previous.atMs)
    }
  })

  test('the latest time is found behind a tail of records that are not events, and a log without events has none', async () => {
    const dir = tempDataDir()
    dirs.push(dir)
    const world = await startWorld({ seed: 32, dir })
    worlds.push(world)
    const eventsLatestMs = latestEventAtMs(world.gateway.engine.wal)
    expect(eventsLatestMs).toBe(Math.max(...eventTimes(dir).map((time) => time.atMs)))
    // Audit-range records (seals, command records) hold no event: the step back passes over them.
    await world.gateway.engine.appendRecords(Array.from({ length: 600 }, () => ({ type: 0xa0ff, version: 1, payload: new Uint8Array(1) })))
    expect(latestEventAtMs(world.gateway.engine.wal)).toBe(eventsLatestMs)
    expect(latestEventAtMs({ firstLsn: 1, lastLsn: 0, read: () => [][Symbol.iterator]() as never })).toBeNull()
  })
})
