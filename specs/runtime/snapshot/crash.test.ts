import { afterAll, describe, expect, test } from 'bun:test'
import { withEvidence } from '../../support/evidence.ts'
import { removeDir, tempDataDir } from '../harness.ts'
import { runCrashDrill } from './crash-drill.ts'

const dir = tempDataDir()
afterAll(() => removeDir(dir))

/** CI runs a few cycles; EGRESS_SNAPSHOT_CRASH_CYCLES (and _SEED) for a longer run, or `bun run scripts/snapshot-crash.ts`. */
const CYCLES = Number(process.env['EGRESS_SNAPSHOT_CRASH_CYCLES'] ?? 10)
const SEED = Number(process.env['EGRESS_SNAPSHOT_CRASH_SEED'] ?? 7_007)

describe('kill -9 while snapshots are written', () => {
  test(`${CYCLES} kills at random points: every restart succeeds, nothing acknowledged is lost, the previous snapshot stays usable`, async () => {
    await withEvidence(
      { id: 'snapshot.crash-kill-9', kind: 'fault', spec: 'specs/runtime/snapshot/crash.test.ts', invariant: 'a gateway process killed with SIGKILL at random points while writing snapshots restarts every time with every acknowledged order, no refused snapshot, state equal to a full replay, and replay-verify clean (query model included)' },
      async () => {
        console.log(`snapshot crash drill: seed ${SEED}, ${CYCLES} cycles`)
        const result = await runCrashDrill({ dir, cycles: CYCLES, seed: SEED, killAfterMs: [80, 400], log: () => {} })
        console.log(JSON.stringify(result))
        expect(result.problems).toEqual([])
        expect(result.cycles).toBe(CYCLES)
        expect(result.acked).toBeGreaterThan(0)
        expect(result.snapshotsSeen).toBeGreaterThan(0)
        expect(result.sealedSnapshotsSeen).toBeGreaterThan(0)
        return { cases: result.cycles, seeds: [SEED], steps: result.acked, killsInsideSnapshot: result.killsInsideSnapshot, killsDuringSnapshotWrite: result.killsDuringSnapshotWrite }
      },
    )
  }, 60_000)
})
