/**
 * A venue that keeps reporting on an order egress does not hold raised REPORT_ORPHANED on every report: one stray
 * order buried every other alert. Now the alert is raised for the first report about an orphaned venue order
 * (venue + venue order id) and later ones are recorded without it, counted in the intake's stats (orphanRepeats).
 * The memory of alerted orphans is bounded: one forgotten alerts again. The kernel decides from the command's
 * `orphanRepeat`, which an HA command record carries, so a standby's shadow decides the same.
 */

import { expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { GatewayMetrics } from '../../src/http/gateway-metrics.ts'
import { decodeCommandRecord, encodeCommandRecord } from '../../src/runtime/ha/command-record.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { ReportIntake } from '../../src/runtime/report-intake.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { run, startWorld, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

function stray(venueOrderId: string, execId: string): ExecutionReport {
  return {
    venue: 'sim', execId, kind: 'fill', clientOrderId: `other-system-${venueOrderId}`, venueOrderId, account: 'acct-a', symbol: 'BTC-USD', side: 'buy',
    cumQty: 1_000_000n, lastQty: 1_000_000n, lastPrice: 5_900_000_000_000n, venueTimeMs: 1,
  }
}

function logged(world: World): DomainEvent[] {
  const events: DomainEvent[] = []
  for (const frame of world.gateway.engine.wal.read(1)) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

function orphanAlerts(world: World): string[] {
  return logged(world).flatMap((event) => (event.type === 'alert.raised' && event.reason === 'REPORT_ORPHANED' ? [event.detail] : []))
}

function orphansRecorded(world: World): string[] {
  return logged(world).flatMap((event) => (event.type === 'inbox.report_accepted' && event.orderId === null ? [event.report.execId] : []))
}

test('repeated reports about one orphaned venue order raise REPORT_ORPHANED once; each is still recorded and counted', async () => {
  const world = await startWorld({ seed: 11 })
  worlds.push(world)
  const intake = world.gateway.reportIntake
  for (const report of [stray('v-1', 'e-1'), stray('v-1', 'e-2'), stray('v-2', 'e-3'), stray('v-1', 'e-4'), stray('v-1', 'e-4')]) await intake.submit(report)
  await run(world, 50)
  // Before: five alerts, one per report.
  expect(orphanAlerts(world)).toEqual(['sim fill for other-system-v-1', 'sim fill for other-system-v-2'])
  expect(orphansRecorded(world)).toEqual(['e-1', 'e-2', 'e-3', 'e-4', 'e-4'])
  expect(world.gateway.reportIntake.stats.orphanRepeats).toBe(3)
  const metrics = new GatewayMetrics()
  metrics.attach(world.gateway, { inFlight: () => 0 })
  expect(metrics.render()).toContain('egress_venue_reports_total{outcome="orphan_repeat"} 3')
  metrics.detach()
})

test('the memory of alerted orphans is bounded: the least recently reported one is forgotten and alerts again', async () => {
  const world = await startWorld({ seed: 12 })
  worlds.push(world)
  const intake = new ReportIntake({ engine: world.gateway.engine, clock: world.clock, orphansRememberedMax: 2, onError: () => {}, noteFill: () => {}, readBack: () => {} })
  // v-1 is refreshed by its second report, so v-2 is the one forgotten when v-3 comes; v-1 stays remembered.
  for (const report of [stray('v-1', 'a'), stray('v-2', 'b'), stray('v-1', 'c'), stray('v-3', 'd'), stray('v-1', 'e'), stray('v-2', 'f')]) await intake.submit(report)
  await run(world, 50)
  expect(orphanAlerts(world)).toEqual(['sim fill for other-system-v-1', 'sim fill for other-system-v-2', 'sim fill for other-system-v-3', 'sim fill for other-system-v-2'])
  expect(intake.stats.orphanRepeats).toBe(2)
  intake.stop()
})

test("an HA command record carries the command's orphanRepeat, so a standby decides the report without the alert too", () => {
  const command = { kind: 'venue_report' as const, nowMs: 5, report: stray('v-1', 'e-1'), orphanRepeat: true as const }
  expect(decodeCommandRecord(encodeCommandRecord(command, 1)).command).toEqual(command)
  const plain = { kind: 'venue_report' as const, nowMs: 5, report: stray('v-1', 'e-1') }
  expect(decodeCommandRecord(encodeCommandRecord(plain, 2)).command).toEqual(plain)
})
