/**
 * An order whose NewOrderSingle reached the venue just before the connection dropped, its ack and a partial fill sent
 * by the venue while egress was away: the order goes Unknown (never assumed sent or not), is never sent again blindly,
 * and converges once the session is back — the venue's resend of its messages (PossDupFlag=Y) books the fill once, and
 * the same fill arriving again later (a venue re-sending it under a new number, PossResend=Y) is dropped by its ExecID.
 * In-process, against the scripted acceptor of specs/venues/fix, which stores what it sends and answers ResendRequests
 * as a venue's engine does.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import { MsgType, Tag } from '../../src/venues/fix/tags.ts'
import { fixServeConfigAt } from './serve-fix-config.ts'
import { FakeAcceptor, until } from '../venues/fix/fake-acceptor.ts'
import { fields } from '../venues/fix/venue-harness.ts'

/** 4, in the kernel's 8-decimal units. */
const FOUR = 4_00000000n
const trader: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }

const dirs: string[] = []
const clocks: StoppableClock[] = []
const running: ServeGateway[] = []
afterEach(async () => {
  for (const gateway of running.splice(0)) await gateway.stop()
  for (const clock of clocks.splice(0)) clock.cancelAll()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function start(acceptor: FakeAcceptor): Promise<ServeGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-fix-drop-'))
  dirs.push(dir)
  const clock = new StoppableClock()
  clocks.push(clock)
  const config = fixServeConfigAt(dir, { reconnectDelayMsMax: 200, requestTimeoutMs: 2_000, statusTimeoutMs: 1_000 })
  const gateway = await startServeGateway(config, { clock, buildCommit: 'spec', onError: () => {}, fixLog: () => {}, fixConnect: acceptor.connect })
  running.push(gateway)
  return gateway
}



describe('serve with a FIX venue: a disconnect between the send and the answer', () => {
  test('the order goes Unknown, is not resent, and the venue\'s resent fill (PossDup) books once; a later copy of it is dropped', async () => {
    const acceptor = new FakeAcceptor({ beginString: 'FIX.4.2', compId: 'EXEC', peerCompId: 'EGRESS', nowMs: () => Date.now(), answerResends: true })
    const served = await start(acceptor)
    const { gateway } = served
    let statusQueries = 0
    acceptor.onMessage = (message) => {
      if (message.msgType !== MsgType.OrderStatusRequest) return
      statusQueries++
      const clOrdId = message.get(Tag.ClOrdID) ?? ''
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 11: clOrdId, 37: 'O-1', 17: `S-${statusQueries}`, 20: '3', 150: 'I', 39: '1', 55: 'IBM', 54: '1', 38: '10', 44: '100', 14: '4', 151: '6' })))
    }
    expect(await served.fixVenues[0]?.adapter.whenActive(5_000)).toBe(true)
    const placed = await gateway.place(trader, { account: 'demo-1', venue: 'fx', symbol: 'IBM', side: 'buy', type: 'limit', qty: '10', price: '100', tif: 'DAY' }, 'k-1')
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    const orderId = placed.reply.orderId
    const order = () => gateway.engine.state.orders.get(orderId)
    await until('the NewOrderSingle at the venue', () => acceptor.ofType(MsgType.NewOrderSingle).length === 1)
    const clOrdId = acceptor.ofType(MsgType.NewOrderSingle)[0]?.get(Tag.ClOrdID) ?? ''
    // The venue acks and part-fills; both are lost with the connection.
    const base = { 11: clOrdId, 37: 'O-1', 20: '0', 55: 'IBM', 54: '1', 38: '10', 44: '100' }
    acceptor.send(MsgType.ExecutionReport, fields({ ...base, 17: 'N-1', 150: '0', 39: '0', 14: '0', 151: '10' }), { lost: true })
    const fill = fields({ ...base, 17: 'F-1', 150: '1', 39: '1', 14: '4', 151: '6', 32: '4', 31: '100' })
    acceptor.send(MsgType.ExecutionReport, fill, { lost: true })
    acceptor.dropConnection()
    await until('the order Unknown', () => order()?.status === 'Unknown')

    // Back: the venue's Logon is above the gap, egress asks for a resend, the ack and the fill come again (PossDup).
    await until('the fill booked', () => order()?.cumQty === FOUR)
    expect(acceptor.ofType(MsgType.ResendRequest).map((m) => m.get(Tag.BeginSeqNo))).toEqual(['2'])
    // The same fill once more, under a new number (a venue re-sending it as PossResend): dropped by its ExecID.
    acceptor.send(MsgType.ExecutionReport, [[Tag.PossResend, 'Y'], ...fill])
    await Bun.sleep(200)
    expect(order()?.cumQty).toBe(FOUR)
    expect(order()?.status).toBe('Partial')
    expect(order()?.venueOrderId).toBe('O-1')
    // Never sent again: the venue has it.
    expect(acceptor.ofType(MsgType.NewOrderSingle)).toHaveLength(1)
  }, 30_000)
})
