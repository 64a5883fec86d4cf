/**
 * `egress serve` in HA mode whose node cannot follow the leader again after a role change (FOLLOW_FAILED): it must
 * not stay up neither leading nor following (the HTTP server answering from a stopped gateway, no replication), so
 * the process exits 1 for a supervisor to restart it once the cause is fixed, saying why in one line. The node-level
 * rule is specs/runtime/ha/node-lease.test.ts and node-steady-state.test.ts; this is the real process.
 *
 * The cause is a real one, no hook: a standby whose data dir is made unusable while it runs — a committed keeping of
 * a diverged log's shared part (as a crash mid-swap leaves it) whose aside name is taken — is then handed the lease.
 * Its takeover finishes interrupted swaps before the leader start and is refused (ASIDE_EXISTS), gives the lease back
 * and follows again, which is refused the same way: no gateway, FOLLOW_FAILED.
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Lease } from '../../wal/index.ts'
import { EXIT_FAILURE } from '../../src/cli/command.ts'
import { Cluster, type ClusterNode } from '../runtime/ha/cluster.ts'

const STILL_RUNNING = 'still running 30 s after the lease was given up'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.stop()
  cluster = null
})

/** Waits up to `timeoutMs` for a stderr line of `node` matching `pattern`; the line, or null. */
async function lineOf(node: ClusterNode, pattern: RegExp, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const line = node.stderr.find((candidate) => pattern.test(candidate))
    if (line !== undefined || Date.now() > deadline) return line ?? null
    await Bun.sleep(20)
  }
}

test('a standby that cannot follow again after a failed takeover exits 1, saying FOLLOW_FAILED and why on one stderr line', async () => {
  cluster = new Cluster({ leaseTtlMs: 1_000, clockSkewMs: 100, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log: () => {} })
  await cluster.startVenue()
  // Another node holds the lease (nobody serves at its URL): node-a starts as a standby and waits to take over.
  const other = Lease.acquire({ dir: cluster.leaseDir, holderId: 'other http://127.0.0.1:9', ttlMs: 60_000, clockSkewMsMax: 100 })
  const node = await cluster.addNode('node-a')
  cluster.spawn(node)
  const following = await lineOf(node, /standby from LSN \d+, following http:\/\/127\.0\.0\.1:9/, 20_000)
  if (following === null) throw new Error(`node-a did not start as a standby:\n${node.stderr.join('\n')}`)

  // The data dir made unusable under the running standby: a committed swap that the next gateway start must finish,
  // whose aside name (log.diverged-1) holds files already.
  mkdirSync(join(node.dataDir, 'log.prefix'))
  writeFileSync(join(node.dataDir, 'diverged-prefix.commit'), JSON.stringify({ suffix: 'diverged-1' }))
  mkdirSync(join(node.dataDir, 'log.diverged-1'))
  writeFileSync(join(node.dataDir, 'log.diverged-1', 'x'), 'evidence')
  other.release()

  const child = node.child as ReturnType<typeof Bun.spawn>
  const code = await Promise.race([child.exited, Bun.sleep(30_000).then(() => STILL_RUNNING)])
  try {
    expect(code).toBe(EXIT_FAILURE)
    // The reason, whole on one line (its stderr is read on its own: wait for it).
    const reason = await lineOf(node, /the node failed: FOLLOW_FAILED: /, 5_000)
    expect(reason).toMatch(
      /^\S+ the node failed: FOLLOW_FAILED: the node could not follow the leader again: ASIDE_EXISTS: \S+\/log\.diverged-1 exists already: \S+\/log is not set aside onto it; move one of them away by hand; exiting so that a restart recovers$/,
    )
    // It did try to lead first, and gave the lease back when that failed.
    expect(node.stderr.some((line) => /takeover at epoch 2 failed \(ASIDE_EXISTS: .*\); lease released, following again$/.test(line))).toBe(true)
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nnode-a's stderr:\n${node.stderr.join('\n')}`, { cause: error })
  }
}, 90_000)
