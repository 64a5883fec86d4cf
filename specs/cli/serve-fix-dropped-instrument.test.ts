/**
 * A restart on a config whose FIX venue no longer lists an instrument the log has orders on (the operator took MSFT
 * off `venues[].instruments`). As for the sim (specs/cli/serve-sim-instruments.test.ts), the start goes on and those
 * orders stay manageable: the instrument is no longer offered for new orders (INSTRUMENT_UNKNOWN), but an order
 * resting on it at the venue is still read back, still takes its fills, and a cancel of it goes out once, on the
 * order's own symbol, and ends it. An order whose NewOrderSingle was unanswered at a crash is read back: held at the
 * venue, it is AckedOpen and cancelable; never received, it is not resent (the resend is refused INSTRUMENT_UNKNOWN,
 * on record) and ends Failed, holding nothing — nothing is sent twice and nothing rests at the venue unmanaged. The
 * start says so, naming the instrument, how many orders are open on it and which (src/cli/dropped-instruments.ts):
 * before, it said nothing, and an operator who took the symbol off new trading had no word of orders still working.
 * In-process, against the scripted acceptor of specs/venues/fix.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { openReadOnly } from '../../wal/index.ts'
import type { FixMessage } from '../../src/venues/fix/message.ts'
import { MsgType, Tag } from '../../src/venues/fix/tags.ts'
import { FakeAcceptor, until } from '../venues/fix/fake-acceptor.ts'
import { fields } from '../venues/fix/venue-harness.ts'
import { fixServeConfigAt } from './serve-fix-config.ts'
import { crashServed } from './serve-fix-crash.ts'

const trader: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
const IBM = { symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }
const MSFT = { ...IBM, symbol: 'MSFT', baseAsset: 'MSFT', referencePrice: '300' }
const BOTH = { instruments: [IBM, MSFT] }
const IBM_ONLY = { instruments: [IBM] }
const MSFT_BUY = { account: 'demo-1', venue: 'fx', symbol: 'MSFT', side: 'buy', type: 'limit', qty: '10', price: '299', tif: 'GTC' }

const dirs: string[] = []
/** What the gateways reported as errors (onError), and the FIX sessions' error records. */
const errors: string[] = []
/** serve's operator lines (stderr in `egress serve`). */
const lines: string[] = []
const clocks: StoppableClock[] = []
const running: ServeGateway[] = []
afterEach(async () => {
  for (const served of running.splice(0)) await served.stop()
  for (const clock of clocks.splice(0)) clock.cancelAll()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  errors.splice(0)
  lines.splice(0)
})

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-fix-dropped-'))
  dirs.push(dir)
  return dir
}

async function start(dir: string, acceptor: FakeAcceptor, venueOver: Record<string, unknown>): Promise<ServeGateway> {
  lines.splice(0)
  const clock = new StoppableClock()
  clocks.push(clock)
  const served = await startServeGateway(fixServeConfigAt(dir, venueOver), { clock, buildCommit: 'spec', onError: (error, context) => errors.push(`${context}: ${String(error)}`), fixLog: (record) => { if (record.event === 'fix.session_error') errors.push(JSON.stringify(record)) }, fixConnect: acceptor.connect, fixLogonWaitMs: 5_000, log: (line) => lines.push(line) })
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

async function place(served: ServeGateway, key: string, body: object = MSFT_BUY): Promise<string> {
  const placed = await served.gateway.place(trader, body, key)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected ${key} accepted, got ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}

/** The venue's order as an ExecutionReport's fields (FIX 4.2), MSFT buy 10 @ 299. */
function report(clOrdId: string, over: Record<number, string>): ReturnType<typeof fields> {
  return fields({ 11: clOrdId, 55: 'MSFT', 54: '1', 38: '10', 44: '299', 14: '0', 151: '10', 6: '0', 20: '0', ...over })
}

/** A venue that acknowledges every NewOrderSingle, answers status from what it holds, and cancels on request. */
function answeringVenue(acceptor: FakeAcceptor, held: Set<string>): void {
  acceptor.onMessage = (message) => {
    const clOrdId = message.get(Tag.ClOrdID) ?? ''
    if (message.msgType === MsgType.NewOrderSingle) {
      held.add(clOrdId)
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, report(clOrdId, { 37: `O-${clOrdId}`, 17: `N-${clOrdId}`, 150: '0', 39: '0' })))
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

function logEvents(dir: string): DomainEvent[] {
  const events: DomainEvent[] = []
  const log = openReadOnly(join(dir, 'log'))
  for (const frame of log.read(log.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

/** What egress sent of `msgType` from message `from` on (the acceptor's record spans every run). */
function sentSince(acceptor: FakeAcceptor, from: number, msgType: string): FixMessage[] {
  return acceptor.received.slice(from).filter((message) => message.msgType === msgType)
}

function acceptorNow(): FakeAcceptor {
  return new FakeAcceptor({ beginString: 'FIX.4.2', compId: 'EXEC', peerCompId: 'EGRESS', nowMs: () => Date.now() })
}

describe('serve with a FIX venue: a restart on a config that dropped an instrument with orders on it', () => {
  test('a resting order stays manageable: new orders on the symbol are INSTRUMENT_UNKNOWN, a fill is taken, a cancel goes out once and ends it', async () => {
    const dir = dataDir()
    const acceptor = acceptorNow()
    const held = new Set<string>()
    answeringVenue(acceptor, held)
    const first = await start(dir, acceptor, BOTH)
    const orderId = await place(first, 'rest-1')
    await until('the MSFT order acknowledged', () => first.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    await stop(first)
    const from = acceptor.received.length

    const second = await start(dir, acceptor, IBM_ONLY)
    const orders = second.gateway.engine.state.orders
    expect(second.gateway.ready).toBe(true)
    expect(second.gateway.engine.state.instruments.has('fx:MSFT')).toBe(false)
    expect(orders.get(orderId)?.status).toBe('AckedOpen')
    // The start says so, naming the instrument, the count and the order.
    expect(lines.filter((line) => line.includes('fx:MSFT'))).toEqual([
      `warning: instrument fx:MSFT is no longer in the config, and 1 order is still open on it (${orderId}): new orders and amends on it are refused (INSTRUMENT_UNKNOWN), cancels, read-backs and fills still go through; cancel them (POST /v1/orders/:id/cancel) unless they should rest`,
    ])
    // Not offered for new orders any more, nor for an amend (the order stands as it was).
    const refused = await second.gateway.place(trader, MSFT_BUY, 'rest-2')
    expect(refused.reply).toMatchObject({ kind: 'rejected', reason: 'INSTRUMENT_UNKNOWN' })
    const amended = await second.gateway.amend(trader, orderId, { qty: 8_00000000n, price: null })
    expect(amended.reply).toMatchObject({ reason: 'INSTRUMENT_UNKNOWN' })
    expect(orders.get(orderId)).toMatchObject({ status: 'AckedOpen', qty: 10_00000000n, amend: null })
    // The venue fills part of it: taken.
    const clOrdId = `eg-${orderId}`
    acceptor.send(MsgType.ExecutionReport, report(clOrdId, { 37: `O-${clOrdId}`, 17: 'F-1', 150: '1', 39: '1', 32: '4', 31: '299', 14: '4', 151: '6', 6: '299' }))
    await until('the partial fill taken', () => orders.get(orderId)?.status === 'Partial')
    expect(orders.get(orderId)?.cumQty).toBe(4_00000000n)
    // A cancel goes out once, on the order's own symbol and side, and the venue's answer ends it.
    const canceled = await second.gateway.cancel(trader, orderId)
    expect(canceled.reply.kind).not.toBe('refused')
    await until('the order canceled', () => orders.get(orderId)?.status === 'Canceled')
    const cancels = sentSince(acceptor, from, MsgType.OrderCancelRequest)
    expect(cancels.map((message) => [message.get(Tag.OrigClOrdID), message.get(Tag.Symbol), message.get(Tag.Side)])).toEqual([[clOrdId, 'MSFT', '1']])
    expect(held.size).toBe(0)
    expect(sentSince(acceptor, from, MsgType.NewOrderSingle)).toEqual([])
    const office = backOfficeOf(second.gateway)
    await office.reconcile()
    expect(office.openBreaks).toEqual([])
    expect(errors).toEqual([])
  }, 30_000)

  test('orders unanswered at a crash: the one the venue holds is read back AckedOpen and cancelable; the one it never got is not resent and ends Failed', async () => {
    const dir = dataDir()
    const acceptor = acceptorNow()
    const first = await start(dir, acceptor, BOTH)
    const heldId = await place(first, 'held')
    const lostId = await place(first, 'lost')
    await until('both NewOrderSingles at the venue', () => acceptor.ofType(MsgType.NewOrderSingle).length === 2)
    await crash(first)
    const from = acceptor.received.length
    // What the dead process's calls said on their way out (a closed log) is not this spec's subject.
    errors.splice(0)

    // The venue holds `held` (as New) and never got `lost`.
    const held = new Set([`eg-${heldId}`])
    answeringVenue(acceptor, held)
    const second = await start(dir, acceptor, IBM_ONLY)
    const orders = second.gateway.engine.state.orders
    const bootstrap = second.gateway.bootstrapReport
    // Both were open at the restore; the start named them.
    const named = lines.filter((line) => line.includes('fx:MSFT'))
    expect(named).toHaveLength(1)
    expect(named[0]).toContain(`instrument fx:MSFT is no longer in the config, and 2 orders are still open on it (${[heldId, lostId].sort().join(', ')})`)
    expect(bootstrap?.inFlightMarkedUnknown).toBe(2)
    expect(bootstrap?.resent).toEqual([])
    await until('held read back', () => orders.get(heldId)?.status === 'AckedOpen')
    await until('lost ended', () => orders.get(lostId)?.status === 'Failed')
    expect(orders.get(lostId)?.notAtVenue).toBe(true)
    // The reservation of the order that never reached the venue is released; the one resting keeps its own.
    expect(orders.get(lostId)?.reservation.remaining).toBe(0n)
    // Nothing sent a second time.
    expect(sentSince(acceptor, from, MsgType.NewOrderSingle)).toEqual([])

    await second.gateway.cancel(trader, heldId)
    await until('held canceled', () => orders.get(heldId)?.status === 'Canceled')
    expect(sentSince(acceptor, from, MsgType.OrderCancelRequest).map((message) => message.get(Tag.OrigClOrdID))).toEqual([`eg-${heldId}`])
    expect(held.size).toBe(0)
    // The start's resend of the order the venue never got was refused on record, with the reason.
    await stop(second)
    const refusals = logEvents(dir).filter((event) => event.type === 'order.resend_refused')
    expect(refusals).toMatchObject([{ orderId: lostId, principalId: 'egress-bootstrap', reason: 'INSTRUMENT_UNKNOWN', detail: 'fx:MSFT' }])
    expect(logEvents(dir).some((event) => event.type === 'order.resend_requested')).toBe(false)
    expect(errors).toEqual([])
  }, 30_000)
})
