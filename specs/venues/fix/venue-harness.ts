/** A FixVenue logged on to a FakeAcceptor on a SimClock, its reports collected: the adapter specs' common start. */

import { expect } from 'bun:test'
import { SimClock } from '../../../src/runtime/clock.ts'
import type { ExecutionReport, PlaceRequest } from '../../../src/venues/adapter.ts'
import type { FixLog, FixLogRecord } from '../../../src/venues/fix/log.ts'
import type { FixField } from '../../../src/venues/fix/message.ts'
import { MemoryFixSessionStore } from '../../../src/venues/fix/store.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { FixVenue, type FixVenueOptions } from '../../../src/venues/fix/venue.ts'
import { FakeAcceptor, settle } from './fake-acceptor.ts'

export async function loggedOnVenue(options: Partial<FixVenueOptions> = {}, beginString: 'FIX.4.2' | 'FIX.4.4' = 'FIX.4.2', log: FixLog = () => {}) {
  const clock = new SimClock({ startMs: 1_700_000_000_000 })
  const acceptor = new FakeAcceptor({ beginString, nowMs: () => clock.nowMs() })
  const store = new MemoryFixSessionStore()
  const venue = new FixVenue({
    venue: 'fixsim',
    requestTimeoutMs: 5_000,
    statusTimeoutMs: 2_000,
    ...options,
    session: { beginString, senderCompId: 'EGRESS', targetCompId: 'EXEC', host: 'h', port: 1, store, clock, connect: acceptor.connect, log },
  })
  const reports: ExecutionReport[] = []
  venue.onReport((r) => reports.push(r))
  venue.start()
  await settle()
  expect(venue.session.state).toBe('active')
  return { clock, acceptor, store, venue, reports }
}

/** A logged-on venue with its session's log records and the order ids it asks to read back. */
export type AckedOrder = Awaited<ReturnType<typeof loggedOnVenue>> & { logs: FixLogRecord[]; readBacks: string[] }

/** A FIX.4.4 venue whose order c-1 (`placed` over limitBuy's) the acceptor acknowledged, as ExecID E1. */
export async function ackedOrder(placed: Partial<PlaceRequest> = {}): Promise<AckedOrder> {
  const logs: FixLogRecord[] = []
  const logged = await loggedOnVenue({}, 'FIX.4.4', (record) => logs.push(record))
  const { acceptor, venue } = logged
  const readBacks: string[] = []
  venue.onReadBackWanted((id) => readBacks.push(id))
  acceptor.onMessage = (m) => {
    if (m.msgType === MsgType.NewOrderSingle) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'E1', 150: '0', 39: '0', 54: '1', 55: 'BTC-USD', 14: '0' })))
  }
  expect((await venue.place(limitBuy('c-1', placed))).kind).toBe('ok')
  return { ...logged, logs, readBacks }
}

/**
 * Once what the acceptor sent has settled: the report the spec sent after the acknowledgement was refused as unreadable
 * (a session Reject naming `tag`, one error log `fix.report_unreadable`), not reported, and its order read back. Those
 * log records, for the spec to look into.
 */
export async function expectReportRefused(order: AckedOrder, tag: number): Promise<FixLogRecord[]> {
  await settle()
  expect(order.reports.map((r) => r.execId)).toEqual(['E1'])
  expect(order.acceptor.ofType(MsgType.Reject).map((m) => m.get(Tag.RefTagID))).toEqual([String(tag)])
  const refused = order.logs.filter((record) => record.event === 'fix.report_unreadable')
  expect(refused.map((record) => record.level)).toEqual(['error'])
  expect(order.readBacks).toEqual(['c-1'])
  return refused
}

export function limitBuy(clientOrderId: string, over: Partial<PlaceRequest> = {}): PlaceRequest {
  return { clientOrderId, account: 'A1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 1_50000000n, price: 100_25000000n, tif: 'GTC', postOnly: false, reduceOnly: false, ...over }
}

export function fields(byTag: Record<number, string>): FixField[] {
  return Object.entries(byTag).map(([tag, value]) => [Number(tag), value] as const)
}
