/**
 * A restart on a config whose `venues[]` lost a whole FIX venue entry while the log holds orders open there
 * (src/runtime/venue-gone.ts). Before, the start went on: a cancel of such an order was recorded as sent, the executor
 * found no adapter and sent nothing, read-backs were skipped, and the order (and its reservation) was stuck for good.
 * Now the start refuses, VENUE_GONE_ORDERS_OPEN naming the venue, the count of orders not ended (resting and Unknown
 * alike; an order that ended is not counted) and their ids, before anything is appended or written to the data dir;
 * with the entry put back it starts and the cancel goes out. A venue removed once its orders all ended is fine.
 * In-process, against the scripted acceptor of specs/venues/fix.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig, type Config } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import { VenueGoneError } from '../../src/runtime/venue-gone.ts'
import { MsgType, Tag } from '../../src/venues/fix/tags.ts'
import { FakeAcceptor, until } from '../venues/fix/fake-acceptor.ts'
import { fields } from '../venues/fix/venue-harness.ts'
import { fixServeConfigAt } from './serve-fix-config.ts'
import { crashServed } from './serve-fix-crash.ts'

const trader: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
const IBM_BUY = { account: 'demo-1', venue: 'fx', symbol: 'IBM', side: 'buy', type: 'limit', qty: '10', price: '99', tif: 'GTC' }

const dirs: string[] = []
const clocks: StoppableClock[] = []
const running: ServeGateway[] = []
afterEach(async () => {
  for (const served of running.splice(0)) await served.stop()
  for (const clock of clocks.splice(0)) clock.cancelAll()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-venue-gone-'))
  dirs.push(dir)
  return dir
}

/** The same data dir and kernel settings, with no FIX venue: the `fx` entry removed from `venues[]`. */
function configWithoutFx(dir: string): Config {
  return parseConfig({ dataDir: dir, wal: { durability: 'none' }, kernel: { reconcileGraceMs: 200 } })
}

async function start(config: Config, acceptor: FakeAcceptor): Promise<ServeGateway> {
  const clock = new StoppableClock()
  clocks.push(clock)
  const served = await startServeGateway(config, { clock, buildCommit: 'spec', onError: () => {}, fixLog: () => {}, fixConnect: acceptor.connect, fixLogonWaitMs: 5_000 })
  running.push(served)
  return served
}

async function stop(served: ServeGateway): Promise<void> {
  running.splice(running.indexOf(served), 1)
  await served.stop()
}

/** The process dies: nothing more is recorded or sent, and the session ends without a Logout. */
async function crash(served: ServeGateway): Promise<void> {
  running.splice(running.indexOf(served), 1)
  await crashServed(served, clocks)
}

async function place(served: ServeGateway, key: string): Promise<string> {
  const placed = await served.gateway.place(trader, IBM_BUY, key)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected ${key} accepted, got ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}

function report(clOrdId: string, over: Record<number, string>): ReturnType<typeof fields> {
  return fields({ 11: clOrdId, 55: 'IBM', 54: '1', 38: '10', 44: '99', 14: '0', 151: '10', 6: '0', 20: '0', ...over })
}

/** A venue that acknowledges every NewOrderSingle (unless `silent`), answers status from what it holds, and cancels. */
function answeringVenue(acceptor: FakeAcceptor, held: Set<string>, silent = false): void {
  acceptor.onMessage = (message) => {
    const clOrdId = message.get(Tag.ClOrdID) ?? ''
    if (message.msgType === MsgType.NewOrderSingle) {
      held.add(clOrdId)
      if (!silent) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, report(clOrdId, { 37: `O-${clOrdId}`, 17: `N-${clOrdId}`, 150: '0', 39: '0' })))
    }
    if (message.msgType === MsgType.OrderStatusRequest) {
      const answer = held.has(clOrdId)
        ? report(clOrdId, { 37: `O-${clOrdId}`, 17: `S-${clOrdId}-${acceptor.nextSeqNum}`, 20: '3', 150: 'I', 39: '0' })
        : report(clOrdId, { 37: 'NONE', 17: `S-${clOrdId}-${acceptor.nextSeqNum}`, 20: '3', 150: 'I', 39: '8', 103: '5' })
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, answer))
    }
    if (message.msgType === MsgType.OrderCancelRequest) {
      const origClOrdId = message.get(Tag.OrigClOrdID) ?? ''
      held.delete(origClOrdId)
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, report(clOrdId, { 41: origClOrdId, 37: `O-${origClOrdId}`, 17: `C-${clOrdId}`, 150: '4', 39: '4', 151: '0' })))
    }
  }
}

function acceptorNow(): FakeAcceptor {
  return new FakeAcceptor({ beginString: 'FIX.4.2', compId: 'EXEC', peerCompId: 'EGRESS', nowMs: () => Date.now() })
}

/** Every file under `dir` with its size and modification time (the lock file aside: a start takes it). */
function filesOf(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const stat = statSync(join(dir, entry))
    if (stat.isFile() && !entry.includes('LOCK')) files[entry] = `${stat.size}@${stat.mtimeMs}`
  }
  return files
}

describe('serve with a FIX venue: a restart on a config that removed the whole venue entry with orders open on it', () => {
  test('refused, VENUE_GONE_ORDERS_OPEN naming the venue, the open orders (resting and Unknown) and their ids, with nothing written; with the entry back the cancel goes out', async () => {
    const dir = dataDir()
    const acceptor = acceptorNow()
    const held = new Set<string>()
    answeringVenue(acceptor, held)
    const first = await start(fixServeConfigAt(dir), acceptor)
    const resting = await place(first, 'rest')
    const ended = await place(first, 'ended')
    await until('both acknowledged', () => [resting, ended].every((id) => first.gateway.engine.state.orders.get(id)?.status === 'AckedOpen'))
    await first.gateway.cancel(trader, ended)
    await until('one canceled', () => first.gateway.engine.state.orders.get(ended)?.status === 'Canceled')
    // A third order's NewOrderSingle unanswered at a crash: in flight, Unknown at the next start.
    answeringVenue(acceptor, held, true)
    const inFlight = await place(first, 'in-flight')
    await until('its NewOrderSingle at the venue', () => acceptor.ofType(MsgType.NewOrderSingle).length === 3)
    await crash(first)
    const before = filesOf(dir)

    const refusal = await start(configWithoutFx(dir), acceptor).then(() => null, (error: unknown) => error)
    expect(refusal).toBeInstanceOf(VenueGoneError)
    const gone = refusal as VenueGoneError
    expect(gone.code).toBe('VENUE_GONE_ORDERS_OPEN')
    expect(gone.venues).toEqual([{ venue: 'fx', count: 2, orderIds: [resting, inFlight].sort(), awaitingTrueUp: { count: 0, orderIds: [] } }])
    expect(gone.message).toStartWith(`VENUE_GONE_ORDERS_OPEN: the log holds orders not ended on a venue the config no longer lists — venue fx: 2 open orders (${[resting, inFlight].sort().join(', ')}). `)
    expect(gone.message).toContain("Put the venue's entry back in venues[]")
    // Nothing was appended to the log, nothing written in the data dir (no anchors line, no snapshot).
    expect(filesOf(dir)).toEqual(before)

    // The entry put back: the start goes on, the Unknown order is read back, and a cancel of each goes out and ends it.
    answeringVenue(acceptor, held)
    const from = acceptor.received.length
    const second = await start(fixServeConfigAt(dir), acceptor)
    const orders = second.gateway.engine.state.orders
    await until('the in-flight order read back', () => orders.get(inFlight)?.status === 'AckedOpen')
    for (const orderId of [resting, inFlight]) await second.gateway.cancel(trader, orderId)
    await until('both canceled', () => [resting, inFlight].every((id) => orders.get(id)?.status === 'Canceled'))
    expect(acceptor.received.slice(from).filter((message) => message.msgType === MsgType.OrderCancelRequest)).toHaveLength(2)
    await stop(second)

    // Every order ended: the venue entry may go now.
    const third = await start(configWithoutFx(dir), acceptor)
    expect(third.gateway.ready).toBe(true)
    expect(third.fixVenues).toEqual([])
  }, 30_000)
})
