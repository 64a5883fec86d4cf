/**
 * Venue sessions log on before bootstrap (GatewayOptions.venueSessions), and a venue may report at once. Such a report
 * is held until bootstrap has recorded the start's configuration, paper fundings and mode (report-intake.ts `closed`),
 * then decided in arrival order. Decided before them, a fill could create the balance a newly configured funding then
 * skipped as already funded, and the log showed venue news decided under the previous start's configuration.
 */

import { describe, expect, test } from 'bun:test'
import type { VenueSessions } from '../../src/runtime/gateway.ts'
import { SimClock } from '../../src/runtime/index.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { startWorld, T0, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** A report about no order of egress's: recorded (inbox.report_accepted) with a REPORT_ORPHANED alert. */
const earlyReport = (execId: string): ExecutionReport => ({
  venue: 'sim', execId, kind: 'new', clientOrderId: `eg-nobody-${execId}`, venueOrderId: `v-${execId}`, account: 'acct-a', symbol: 'BTC-USD', side: 'buy', cumQty: 0n, venueTimeMs: T0,
})

describe('a venue report that arrives between the Logon and bootstrap', () => {
  test('is recorded after bootstrap has configured the kernel, funded paper accounts and set the mode, in arrival order', async () => {
    const clock = new SimClock({ startMs: T0 })
    const types: string[] = []
    const execIds: string[] = []
    let heldAtLogon = -1
    const sessions: VenueSessions = {
      async start(gateway) {
        gateway.engine.onDurable((events) => {
          for (const { event } of events) {
            types.push(event.type)
            if (event.type === 'inbox.report_accepted') execIds.push(event.report.execId)
          }
        })
        void gateway.reportIntake.submit(earlyReport('e1'))
        void gateway.reportIntake.submit(earlyReport('e2'))
        heldAtLogon = gateway.reportIntake.stats.held
      },
      stop: () => Promise.resolve(),
    }
    const world = await startWorld({ seed: 5, clock, venueSessions: sessions, mode: 'shadow' })
    worlds.push(world)
    await world.gateway.engine.settled()
    expect(execIds).toEqual(['e1', 'e2'])
    const firstReport = types.indexOf('inbox.report_accepted')
    for (const type of ['kernel.configured', 'account.funded', 'mode.changed']) {
      expect(types.indexOf(type)).toBeGreaterThanOrEqual(0)
      expect(types.lastIndexOf(type)).toBeLessThan(firstReport)
    }
    expect(heldAtLogon).toBe(2)
    expect(world.gateway.reportIntake.stats).toMatchObject({ held: 0, dropped: 0 })
    expect(world.gateway.ready).toBe(true)
  })
})
