/**
 * One short cycle of the DR GameDay's site-loss scenario on real processes (spec 004 §10; dr-gameday.ts has the
 * machinery, scripts/dr-gameday.ts runs it for many cycles and prints the RTO figures). The leader is SIGKILLed and its
 * data directory deleted under order load; the standby takes over from its replica and a replacement node rebuilds on
 * an empty data directory. Behaviour only, no timing: no acknowledged order lost (RPO 0 under fail_closed), orders
 * acknowledged again after the loss, the rebuilt copy holds every acknowledged order, both data directories pass
 * `egress replay-verify`, and the venue saw no client order id twice.
 */

import { describe, expect, test } from 'bun:test'
import { withEvidence } from '../../support/evidence.ts'
import { runGameDay } from './dr-gameday.ts'
import { DRILL_KERNEL } from './drill.ts'

const SPEC = 'specs/runtime/ha/dr-site-loss.test.ts'

describe('site loss: the leader and its data directory gone under order load (synchronous replication, fail_closed)', () => {
  test('the standby serves with every acknowledged order, a node rebuilt on an empty data directory holds them too, both verify, no venue duplicate', async () => {
    await withEvidence(
      { id: 'ha.dr-site-loss', kind: 'fault', spec: SPEC, invariant: 'with synchronous replication (fail_closed), losing the leader and its whole data directory under order load loses no 202-acknowledged order: the standby takes over and acknowledges orders again once a replacement on an empty data directory has rebuilt from it, the replacement holds every acknowledged order, both data directories pass egress replay-verify, and the venue sees no duplicate client order id', expected: { cases: 1 } },
      async () => {
        const report = await runGameDay({
          scenarios: ['site-loss'], cycles: 1, leaseTtlMs: 1_000, clockSkewMs: 100, ratePerSec: 40, loadBeforeMs: 300, loadAfterMs: 200,
          sync: 'fail_closed', syncTimeoutMs: 1_000, kernel: DRILL_KERNEL, verbose: process.env.EGRESS_DRILL_VERBOSE !== undefined, keep: false,
          log: (line) => void process.stderr.write(`dr: ${line}\n`),
        })
        const [cycle] = report.cycles
        expect(report.cycles).toHaveLength(1)
        if (cycle === undefined) throw new Error('no cycle ran')
        expect(cycle.failures).toEqual([])
        expect(cycle.ordersAcked).toBeGreaterThan(0)
        // Serving again: the survivor acknowledged orders after the loss (the RTO's end point was reached).
        expect(cycle.ackedAfterFault).toBeGreaterThan(0)
        expect(cycle.rtoMs).not.toBeNull()
        expect(cycle.rpoOrders).toBe(0)
        expect(cycle.rebuiltMissing).toBe(0)
        expect(cycle.venueDuplicates).toBe(0)
        expect(cycle.unknownLeft).toBe(0)
        expect(cycle.replayVerified.map((each) => [each.node, each.ok])).toEqual([['node-b', true], ['node-c', true]])
        expect(report.summaries[0]?.pass).toBe(true)
        return { cases: 1, details: { rtoMs: cycle.rtoMs, takeoverMs: cycle.takeoverMs, ordersAcked: cycle.ordersAcked, ackedAfterFault: cycle.ackedAfterFault, replayVerified: cycle.replayVerified } }
      },
    )
  }, 60_000)
})
