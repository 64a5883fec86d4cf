/** A FixVenue logged on to a FakeAcceptor on a SimClock, its reports collected: the adapter specs' common start. */

import { expect } from 'bun:test'
import { SimClock } from '../../../src/runtime/clock.ts'
import type { ExecutionReport, PlaceRequest } from '../../../src/venues/adapter.ts'
import type { FixLog } from '../../../src/venues/fix/log.ts'
import type { FixField } from '../../../src/venues/fix/message.ts'
import { MemoryFixSessionStore } from '../../../src/venues/fix/store.ts'
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

export function limitBuy(clientOrderId: string, over: Partial<PlaceRequest> = {}): PlaceRequest {
  return { clientOrderId, account: 'A1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 1_50000000n, price: 100_25000000n, tif: 'GTC', postOnly: false, reduceOnly: false, ...over }
}

export function fields(byTag: Record<number, string>): FixField[] {
  return Object.entries(byTag).map(([tag, value]) => [Number(tag), value] as const)
}
