/**
 * The DR GameDay's site-loss scenario with the replacement started early (dr-gameday.ts `earlyStart`), made
 * deterministic: the leader is SIGKILLed and its data directory deleted under order load, the surviving standby is held
 * back (SIGSTOP) so the lease runs out with nobody to take it, and a replacement node starts `--role auto` on an empty
 * data directory. Before the takeover guard (src/runtime/ha/takeover-guard.ts) the empty node took the free lease and
 * led with an empty log: every acknowledged order was lost, under fail_closed too. Now it is refused (`ha.takeover_refused`:
 * LEASE_NOT_IN_SYNC, the lost leader's lease record names its in-sync set, the survivor only; a record without a set,
 * LEASE_LOG_BEHIND: its log ends below the record's floor), the survivor, let go, takes
 * over and leads with every acknowledged order (RPO 0), and the replacement follows it and rebuilds.
 */

import { describe, expect, test } from 'bun:test'
import { withEvidence } from '../../support/evidence.ts'
import { runGameDay } from './dr-gameday.ts'
import { DRILL_KERNEL } from './drill.ts'

const SPEC = 'specs/runtime/ha/dr-early-start.test.ts'

describe('site loss with the replacement started before the survivor took over (synchronous replication, fail_closed)', () => {
  test('the empty replacement is refused the lease; the survivor leads with every acknowledged order; the replacement rebuilds from it', async () => {
    await withEvidence(
      { id: 'ha.dr-early-start', kind: 'fault', spec: SPEC, invariant: 'a node started on an empty data directory after the leader and its disk were lost never takes the lease while its log ends below what the lost leader\'s standby held: the survivor takes over with every 202-acknowledged order (RPO 0) and the empty node follows it', expected: { cases: 1 } },
      async () => {
        const report = await runGameDay({
          scenarios: ['site-loss'], cycles: 1, leaseTtlMs: 500, clockSkewMs: 100, ratePerSec: 40, loadBeforeMs: 300, loadAfterMs: 200,
          sync: 'fail_closed', syncTimeoutMs: 1_000, kernel: DRILL_KERNEL, earlyStart: true, verbose: process.env.EGRESS_DRILL_VERBOSE !== undefined, keep: false,
          log: (line) => void process.stderr.write(`dr: ${line}\n`),
        })
        const [cycle] = report.cycles
        if (cycle === undefined) throw new Error('no cycle ran')
        expect(cycle.emptyNodeLed).toBe(false)
        expect(cycle.failures).toEqual([])
        expect(cycle.ordersAcked).toBeGreaterThan(0)
        expect(cycle.ackedAfterFault).toBeGreaterThan(0)
        expect(cycle.rpoOrders).toBe(0)
        expect(cycle.rebuiltMissing).toBe(0)
        expect(cycle.venueDuplicates).toBe(0)
        expect(cycle.replayVerified.map((each) => [each.node, each.ok])).toEqual([['node-b', true], ['node-c', true]])
        expect(report.summaries[0]).toMatchObject({ pass: true, emptyNodeLeads: 0 })
        return { cases: 1, details: { rtoMs: cycle.rtoMs, takeoverMs: cycle.takeoverMs, ordersAcked: cycle.ordersAcked, ackedAfterFault: cycle.ackedAfterFault } }
      },
    )
  }, 90_000)
})
