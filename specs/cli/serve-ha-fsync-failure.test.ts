/**
 * `egress serve` in HA mode when an fsync fails while the node replaces its data dir's log: fatal (DESIGN §3), so the
 * process exits 74 (EX_IOERR) for a supervisor to restart it, and the restart recovers from what is on disk. Real
 * processes (specs/runtime/ha/recovery-drill.ts): node-a leads and compacts its log; node-b joins empty, so it must
 * install node-a's snapshot (src/runtime/ha/snapshot-recovery.ts), and a preload (specs only) makes the fsync of its
 * `log.recovering/` fail. The in-process side of the same rule: specs/runtime/ha/snapshot-recovery-fsync.test.ts.
 */

import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { EXIT_IO_ERROR } from '../../src/cli/command.ts'
import { waitFor } from '../runtime/ha/cluster.ts'
import { compactedLeader, standbyRecovered } from '../runtime/ha/recovery-drill.ts'

const PRELOAD = join(import.meta.dir, 'support/fail-dir-fsync-preload.ts')

test('HA serve whose snapshot install hits a failed fsync: FSYNC_FAILED, exit 74 after one attempt; restarted, it rolls the install back and recovers', async () => {
  const lines: string[] = []
  const setup = await compactedLeader({ keep: false, log: (line) => void lines.push(line) })
  const { cluster, standby } = setup
  const said = (): string => `node-b's last stderr lines:\n${standby.stderr.slice(-30).join('\n')}\n${lines.join('\n')}`
  try {
    cluster.spawn(standby, { preload: PRELOAD, env: { EGRESS_SPEC_FAIL_FSYNC_DIR: 'log.recovering' } })
    const child = standby.child as ReturnType<typeof Bun.spawn>
    const code = await Promise.race([child.exited, Bun.sleep(30_000).then(() => 'still running 30 s after it started')])
    if (code !== EXIT_IO_ERROR) throw new Error(`node-b's exit: ${code}`)
    // Its stderr is read on its own: wait for the line serve logs on its way out.
    const exiting = (): boolean => standby.stderr.some((line) => line.includes('the node failed: FSYNC_FAILED: '))
    await waitFor("node-b's stderr read", 5_000, async () => exiting())
    const first = [...standby.stderr]
    expect(first.filter((line) => line.startsWith('spec preload: EIO injected'))).toHaveLength(1)
    expect(first.filter((line) => line.includes('recovering from its snapshot'))).toHaveLength(1)
    expect(first.some((line) => /fatal: FSYNC_FAILED: fsync of \S+log\.recovering failed in a data dir swap \(EIO: /.test(line))).toBe(true)
    expect(first.some((line) => line.includes('snapshot recovery failed') || line.includes('retrying'))).toBe(false)

    // Restarted as a supervisor would (no failing disk this time): the uncommitted install is rolled back at
    // start-up, and node-b recovers from node-a's snapshot and follows.
    cluster.spawn(standby)
    const health = await standbyRecovered(setup)
    const recovery = health.ha?.last_snapshot_recovery
    expect(recovery?.state).toBe('recovered')
    expect(health.log.first_lsn).toBe(recovery?.snapshot_lsn as number)
    expect(standby.stderr.slice(first.length).some((line) => line.includes('interrupted snapshot recovery rolled back at start-up'))).toBe(true)
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${said()}`, { cause: error })
  } finally {
    await setup.close()
  }
}, 120_000)
