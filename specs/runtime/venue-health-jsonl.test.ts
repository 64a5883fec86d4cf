/**
 * Venue health and a JSONL venue whose connection drops (src/venues/jsonl/client.ts, src/runtime/venue-health-monitor.ts),
 * over a real loopback connection to the sim venue's JSONL server. While the connection is down the client answers
 * every call itself, `jsonl_not_connected`, without the venue seeing it. Those answers were scored (a retryable weighs
 * 50): a venue unreachable with no call made scored OK, and once it was back the cancels retried meanwhile kept it
 * DEGRADED or CRITICAL until they aged out. The connection's state is what is scored now, as a FIX session's logon.
 */

import { afterEach, expect, test } from 'bun:test'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import type { VenueHealthCommand } from '../../src/kernel/venue-health-commands.ts'
import type { Engine } from '../../src/runtime/engine.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { VenueHealthMonitor } from '../../src/runtime/venue-health-monitor.ts'
import type { CancelRequest, VenueAdapter, VenueOutcome } from '../../src/venues/adapter.ts'
import { JsonlVenueClient, serveJsonlVenue, type JsonlVenueServer } from '../../src/venues/jsonl/index.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { T0 } from './harness.ts'
import { VENUE_HEALTH } from './venue-health-support.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

function startVenue(port = 0): JsonlVenueServer {
  const clock = new StoppableClock()
  const instruments = defaultSimInstruments()
  const venue = new SimVenue({ clock, seed: 5, instruments: simInstrumentsFor(instruments) })
  const server = serveJsonlVenue(venue, { hostname: '127.0.0.1', port, recordPath: null, symbols: instruments.map((i) => i.symbol), pricePushMs: 50, log: () => {} })
  cleanups.push(() => {
    server.stop()
    clock.cancelAll()
  })
  return server
}

/** An engine that holds no level and takes every level asked for: what the monitor would record. */
function recordingEngine(): { engine: Engine; asked: VenueHealthCommand[] } {
  const asked: VenueHealthCommand[] = []
  const engine = {
    state: { venueHealth: new Map() },
    submit: (command: VenueHealthCommand) => {
      asked.push(command)
      return Promise.resolve({ decision: { events: [] } })
    },
  } as unknown as Engine
  return { engine, asked }
}

const CANCEL: CancelRequest = { clientOrderId: 'x-1', origClientOrderId: 'ghost-1', account: 'acct-a', symbol: 'BTC-USD' }

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (await condition()) return
    await Bun.sleep(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}

test('a JSONL venue whose connection is down is CRITICAL; the calls answered jsonl_not_connected meanwhile are not scored, so it is OK once back', async () => {
  const server = startVenue()
  const port = server.port
  const client: VenueAdapter = await JsonlVenueClient.connect({
    venue: 'sim', hostname: '127.0.0.1', port, requestTimeoutMs: 2_000, pendingMax: 100, reconnectMsMax: 50, connectWaitMs: 2_000, log: () => {},
  })
  cleanups.push(() => (client as JsonlVenueClient).close())
  const clock = new SimClock({ startMs: T0 })
  const { engine, asked } = recordingEngine()
  // Wired as the gateway wires it (src/runtime/venue-watchers.ts).
  const monitor = new VenueHealthMonitor({
    engine, clock, config: VENUE_HEALTH, venues: ['sim'],
    sessionUp: () => client.sessionActive?.() ?? null,
    answeredLocally: (_venue, outcome) => client.answeredLocally?.(outcome) ?? false,
    onError: (error) => {
      throw error
    },
  })
  const observe = async (): Promise<VenueOutcome<unknown>> => {
    const sentAtMs = clock.nowMs()
    const outcome = await client.cancel(CANCEL)
    monitor.observe('sim', outcome, sentAtMs)
    return outcome
  }

  // The venue goes away: unreachable before any call is made, which is CRITICAL (no call needed to tell).
  server.stop()
  await until(async () => (await client.cancel(CANCEL)).kind === 'retryable', 'the connection to be lost')
  await monitor.recordFresh()
  expect(asked.map((command) => command.level)).toEqual(['CRITICAL'])
  expect(monitor.latest('sim')?.detail).toContain('session down')

  // A cancel retried while it is down: answered by the client itself, not scored.
  for (let attempt = 0; attempt < 10; attempt++) expect(await observe()).toMatchObject({ kind: 'retryable', reason: 'jsonl_not_connected' })
  expect(monitor.latest('sim')).toMatchObject({ level: 'CRITICAL', counts: { calls: 0 } })

  // Back: scored on what the venue answers from now on.
  startVenue(port)
  await until(async () => (await client.cancel(CANCEL)).kind !== 'retryable', 'the client to reconnect')
  for (let attempt = 0; attempt < VENUE_HEALTH.samplesMin; attempt++) expect((await observe()).kind).not.toBe('retryable')
  expect(monitor.latest('sim')).toMatchObject({ level: 'OK', counts: { calls: VENUE_HEALTH.samplesMin, retryable: 0 } })
})
