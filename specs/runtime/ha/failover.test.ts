/**
 * Failover on real processes over loopback (issue 8, "Tests and drills"): an external sim venue and two
 * `egress serve --role auto` nodes sharing a lease directory, under steady order load. The lease TTL is shortened to
 * 500 ms so a cycle takes about a second and a half; scripts/failover-drill.ts runs the same drill for many more cycles.
 */

import { describe, expect, test } from 'bun:test'
import { withEvidence } from '../../support/evidence.ts'
import { Cluster, waitFor } from './cluster.ts'
import { DRILL_KERNEL, runDrill, type DrillOptions, type DrillReport } from './drill.ts'

const SPEC = 'specs/runtime/ha/failover.test.ts'
const LEASE_TTL_MS = 500
/** Issue 8 asks ≥ 20 in CI; at a 500 ms lease TTL a cycle takes about 1.5 s. */
const KILL_CYCLES = 20

function drillOptions(overrides: Partial<DrillOptions>): DrillOptions {
  return {
    cycles: 1,
    mode: 'kill9',
    leaseTtlMs: LEASE_TTL_MS,
    clockSkewMs: 100,
    ratePerSec: 40,
    loadBeforeMs: 300,
    loadAfterMs: 200,
    sync: 'off',
    syncTimeoutMs: 1_000,
    takeoverSlackMs: 2_000,
    kernel: DRILL_KERNEL,
    verbose: process.env.EGRESS_DRILL_VERBOSE !== undefined,
    keep: false,
    log: (line) => void process.stderr.write(`drill: ${line}\n`),
    ...overrides,
  }
}

function expectClean(report: DrillReport, cycles: number): void {
  expect(report.failures).toEqual([])
  expect(report.cycles).toBe(cycles)
  expect(report.takeoverMs).toHaveLength(cycles)
  // Issue 8: every takeover within lease TTL + 2 s, those whose bootstrap awaited a venue call in flight included (the
  // nodes run with a reconcile grace that fits the loopback venue, DRILL_KERNEL).
  for (const takeoverMs of report.takeoverMs) expect(takeoverMs).toBeLessThanOrEqual(LEASE_TTL_MS + 2_000)
  expect(report.ordersAcked).toBeGreaterThan(0)
  expect(report.ackedLost).toBe(0)
  expect(report.venueDuplicates).toBe(0)
  expect(report.unknownLeft).toBe(0)
  expect(report.logsVerified).toBe(2)
  // The standbys decided the leaders' commands again in shadow mode and agreed every time.
  expect(report.shadowDecisions).toBeGreaterThan(0)
  expect(report.shadowMismatches).toBe(0)
}

describe('kill -9 of the leader under steady order load (synchronous replication, fail_closed)', () => {
  test(`${KILL_CYCLES} cycles: takeover within lease TTL + 2 s, no acknowledged order lost, no venue duplicate, Unknowns converge, both chains verify`, async () => {
    await withEvidence(
      { id: 'ha.kill9-failover', kind: 'fault', spec: SPEC, invariant: 'with synchronous replication, killing the leader (SIGKILL) under order load loses no 202-acknowledged order, the standby leads within lease TTL + 2 s (also when its bootstrap found a venue call in flight, with a reconcile grace fitting the venue), the venue sees no duplicate client order id, every Unknown converges, and both logs verify as one chain', expected: { cases: KILL_CYCLES } },
      async () => {
        const report = await runDrill(drillOptions({ cycles: KILL_CYCLES, mode: 'kill9', sync: 'fail_closed' }))
        expectClean(report, KILL_CYCLES)
        return { cases: KILL_CYCLES, details: { takeoverMs: report.takeoverMs, ordersAcked: report.ordersAcked, venueOrders: report.venueOrders, statuses: report.ackedStatuses } }
      },
    )
  }, 180_000)
})

describe('a leader SIGSTOPped past lease expiry, then woken', () => {
  test('the standby takes over; the woken leader acknowledges nothing, sends nothing and steps down', async () => {
    const cycles = 3
    await withEvidence(
      { id: 'ha.sigstop-deposed-leader', kind: 'fault', spec: SPEC, invariant: 'with synchronous replication, a leader paused past lease expiry and woken after a takeover acknowledges no write held open on it, makes no venue call, and steps down to standby; the standby takes over within lease TTL + 2 s', expected: { cases: cycles } },
      async () => {
        // Synchronous replication: with async replication an acknowledged order the standby had not yet copied is lost
        // at a takeover by design (README, High availability), which failed this drill under CPU load (2 lost once).
        const report = await runDrill(drillOptions({ cycles, mode: 'sigstop', sync: 'fail_closed' }))
        expectClean(report, cycles)
        expect(report.deposedAcks).toBe(0)
        expect(report.deposedSends).toBe(0)
        // The writes held open on the stopped leader were really answered once it woke, and refused.
        expect(report.deposedRefused).toBe(cycles * 4)
        return { cases: cycles, details: { takeoverMs: report.takeoverMs, ordersAcked: report.ordersAcked, discardedRecords: report.discardedRecords } }
      },
    )
  }, 90_000)
})

describe('two serve processes started at the same moment', () => {
  test('exactly one becomes leader and the other a replicating standby (3 trials)', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const cluster = new Cluster({ leaseTtlMs: LEASE_TTL_MS, clockSkewMs: 100, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log: () => {} })
      try {
        await cluster.startVenue()
        const nodes = [await cluster.addNode('node-a'), await cluster.addNode('node-b')]
        for (const node of nodes) cluster.spawn(node)
        // Both roles are read together each time: on a loaded machine the first leader can miss a renewal of its
        // 500 ms lease while it bootstraps, and the other node takes the lease (epoch 2) and leads instead; the
        // first then follows it. What must hold is the end state: one leader, the other its replicating standby.
        await waitFor('one leader and the other node a replicating standby', 30_000, async () => {
          const healths = await Promise.all(nodes.map((node) => node.health()))
          const roles = healths.map((health) => health?.ha?.role).sort()
          const replicating = healths.some((health) => health?.ha?.role === 'standby' && health.ha.replicating)
          return roles[0] === 'leader' && roles[1] === 'standby' && replicating
        })
        const roles = await Promise.all(nodes.map(async (node) => (await node.health())?.ha?.role))
        expect(roles.sort()).toEqual(['leader', 'standby'])
      } finally {
        await cluster.stop()
        cluster.remove()
      }
    }
  }, 90_000)
})
