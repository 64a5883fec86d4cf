/** What the auto-stop specs share: a sim venue whose answers a spec scripts, a world around it, the switch records. */

import { expect } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import type { AutoStopConfig } from '../../src/config/index.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simDepositsOf, simInstrumentsFor } from '../../src/runtime/paper.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import type { PlaceAck, PlaceRequest, VenueOrder, VenueOutcome } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { ACCOUNTS, run, startWorld, T0, type World } from './harness.ts'

/** A sim venue (5 ms latency) whose places a spec may answer itself, delay, and whose status queries may go unanswered. */
export class ScriptedVenue extends SimVenue {
  /** Answers for the next places, in order; none left: the sim answers. */
  placeAnswers: VenueOutcome<PlaceAck>[] = []
  /** Extra time each place takes before it is answered. */
  placeDelayMs = 0
  /** Status queries (read-backs) answer `unknown`: an Unknown order stays Unknown. */
  statusUnanswered = false

  constructor(readonly simClock: SimClock) {
    super({ clock: simClock, seed: 11, instruments: simInstrumentsFor(defaultSimInstruments()), deposits: simDepositsOf(ACCOUNTS), latencyMsMin: 5, latencyMsMax: 5 })
  }

  override async place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    if (this.placeDelayMs > 0) await new Promise<void>((resolve) => this.simClock.schedule(this.placeDelayMs, resolve))
    const scripted = this.placeAnswers.shift()
    return scripted ?? super.place(request)
  }

  override async orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    if (this.statusUnanswered) return { kind: 'unknown', reason: 'no answer' }
    return super.orderStatus(clientOrderId)
  }
}

export async function autoStopWorld(autoStop: AutoStopConfig): Promise<{ world: World; venue: ScriptedVenue }> {
  const clock = new SimClock({ startMs: T0 })
  const venue = new ScriptedVenue(clock)
  const world = await startWorld({ seed: 11, clock, venue, autoStop })
  return { world, venue }
}

/** The `switch.changed` records of the world's log: who engaged what, with which note. */
export async function switchRecords(world: World): Promise<{ action: string; principalId: string; note: string }[]> {
  await world.gateway.engine.settled()
  return Array.from(world.gateway.engine.wal.read(1), (frame) => domainEventOf(frame)).flatMap((event) =>
    event?.type === 'switch.changed' ? [{ action: event.action, principalId: event.principalId, note: event.note }] : [],
  )
}

let orders = 0

/** Places a resting limit buy for `principal`'s first account and lets it reach the venue's answer. */
export async function placeResting(world: World, principal: Principal, account = principal.accounts[0] as string): Promise<string> {
  const body = { account, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: `as-${++orders}` }
  const placed = await world.gateway.place(principal, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 300)
  return placed.reply.orderId
}

export function expectNoErrors(world: World): void {
  expect(world.errors).toEqual([])
}

/** The `account.switch_changed` records of the world's log: which account, who engaged or lifted what, with which note. */
export async function accountSwitchRecords(world: World): Promise<{ accountId: string; action: string; principalId: string; note: string }[]> {
  await world.gateway.engine.settled()
  return Array.from(world.gateway.engine.wal.read(1), (frame) => domainEventOf(frame)).flatMap((event) =>
    event?.type === 'account.switch_changed' ? [{ accountId: event.accountId, action: event.action, principalId: event.principalId, note: event.note }] : [],
  )
}
