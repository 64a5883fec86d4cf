/**
 * An HA node (`egress serve --lease-dir …`) signalled during its start: the signal was watched only once the node had
 * started, so one while it started — its gateway replaying the log or bootstrapping, a `--role leader` waiting for a
 * lease another node holds — killed the process outright (exit 143 / 130 / 129), the lease it had taken left to
 * expire instead of released. Now the stop ends what waits on the lease, lets the rest of the start finish, and the
 * node stops as at any shutdown: lease released, exit 0. SIGHUP (the terminal closed) stops a running node the same
 * way. Real processes; the mid-start signal comes from specs/cli/support/signal-at-start-preload.ts. An fsync failing
 * in that stop (the shutdown snapshot's) is exit 74, as at a running node's stop: it said "stopped cleanly", exit 0.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'
import { EXIT_IO_ERROR } from '../../src/cli/command.ts'
import { Lease, readCurrentLease } from '../../wal/index.ts'

const ROOT = resolve(import.meta.dir, '../..')
const PRELOAD = join(import.meta.dir, 'support', 'signal-at-start-preload.ts')
const FAIL_FSYNC_PRELOAD = join(import.meta.dir, 'support', 'fail-fsync-preload.ts')
const TOKEN = 'signal-at-start-replication-token'
const dir = mkdtempSync(join(tmpdir(), 'egress-ha-signal-at-start-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Node {
  child: ReturnType<typeof Bun.spawn>
  port: number
  leaseDir: string
}

async function spawnNode(name: string, role: string, extraEnv: Record<string, string> = {}, preloads: string[] = []): Promise<Node> {
  const port = await freePort()
  const leaseDir = join(dir, name, 'lease')
  mkdirSync(leaseDir, { recursive: true })
  const child = Bun.spawn([
    process.execPath, ...preloads.flatMap((preload) => ['--preload', preload]), 'src/main.ts', 'serve', '--role', role, '--lease-dir', leaseDir,
    '--node-id', name, '--lease-ttl-ms', '1000', '--clock-skew-ms', '100',
  ], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: join(dir, name, 'data'), PORT: String(port), EGRESS_HOST: '127.0.0.1', EGRESS_WAL_DURABILITY: 'none', EGRESS_REPLICATION_TOKEN: TOKEN, ...extraEnv },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  return { child, port, leaseDir }
}

async function ended(node: Node): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const code = await Promise.race([node.child.exited, Bun.sleep(20_000).then(() => 'still running after 20 s')])
  if (node.child.exitCode === null) node.child.kill('SIGKILL')
  const [stdout, stderr] = await Promise.all([new Response(node.child.stdout as ReadableStream).text(), new Response(node.child.stderr as ReadableStream).text()])
  return { code, stdout, stderr }
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${signal} while a leader starts its gateway: the start finishes, the node stops, the lease is released, exit 0`, async () => {
    const node = await spawnNode(`leader-${signal}`, 'auto', { EGRESS_SPEC_SIGNAL_AT_START: signal }, [PRELOAD])
    try {
      const { code, stdout, stderr } = await ended(node)
      expect(code).toBe(0)
      expect(stderr).toContain(`${signal} during start-up: stopping the node before it serves`)
      expect(stderr).toContain('stopped cleanly')
      expect(stdout).not.toContain('listening on')
      // It had taken the lease (the log is created by the leader's gateway start): released, not left to expire.
      expect(readCurrentLease(node.leaseDir)).toMatchObject({ holderId: `leader-${signal} http://127.0.0.1:${node.port}`, epoch: 1, expiresAtMs: 0 })
    } finally {
      if (node.child.exitCode === null) node.child.kill('SIGKILL')
      await node.child.exited
    }
  }, 30_000)
}

test('SIGTERM while a leader starts its gateway, an fsync failing as it stops (the shutdown snapshot): exit 74, not "stopped cleanly"', async () => {
  const dataDir = join(dir, 'fsync-failure', 'data')
  const failFsync = { EGRESS_SPEC_FAIL_FSYNC_FLAG: join(dir, 'fail-fsync-now'), EGRESS_SPEC_FAIL_FSYNC_CALL: 'fsync', EGRESS_SPEC_FAIL_FSYNC_UNDER: dataDir }
  const node = await spawnNode('fsync-failure', 'auto', { EGRESS_SPEC_SIGNAL_AT_START: 'SIGTERM', EGRESS_WAL_DURABILITY: 'fsync', ...failFsync }, [FAIL_FSYNC_PRELOAD, PRELOAD])
  try {
    const { code, stderr } = await ended(node)
    expect(stderr).toContain('SIGTERM during start-up: stopping the node before it serves')
    expect(stderr).toContain('snapshot at shutdown: FSYNC_FAILED')
    // Before the fix: "stopped cleanly", exit 0.
    expect({ code, failed: stderr.includes('the log failed while stopping'), clean: stderr.includes('stopped cleanly') }).toEqual({ code: EXIT_IO_ERROR, failed: true, clean: false })
  } finally {
    if (node.child.exitCode === null) node.child.kill('SIGKILL')
    await node.child.exited
  }
}, 30_000)

test('SIGTERM while a --role leader waits for a lease another node holds: the wait ends, exit 0, the lease untouched', async () => {
  const name = 'waiting-leader'
  mkdirSync(join(dir, name, 'lease'), { recursive: true })
  const other = Lease.acquire({ dir: join(dir, name, 'lease'), holderId: 'other http://127.0.0.1:1', ttlMs: 120_000, clockSkewMsMax: 100 })
  const node = await spawnNode(name, 'leader')
  try {
    // The HTTP server listens before the node starts (answering 503 "starting"): from then on the node waits to lead.
    await waitFor('the node to listen', 20_000, async () => (await fetch(`http://127.0.0.1:${node.port}/health/live`)).ok)
    await Bun.sleep(300)
    node.child.kill('SIGTERM')
    const { code, stdout, stderr } = await ended(node)
    expect(code).toBe(0)
    expect(stderr).toContain('SIGTERM during start-up: stopping the node before it serves')
    expect(stderr).toContain('stopped cleanly')
    expect(stdout).not.toContain('listening on')
    expect(readCurrentLease(node.leaseDir)).toMatchObject({ holderId: 'other http://127.0.0.1:1', epoch: 1 })
    expect(other.isHeld()).toBe(true)
  } finally {
    if (node.child.exitCode === null) node.child.kill('SIGKILL')
    await node.child.exited
    other.release()
  }
}, 30_000)

test('SIGHUP to a running leader: it stops as on SIGTERM, releasing the lease, exit 0', async () => {
  const node = await spawnNode('running-leader', 'auto')
  try {
    await waitFor('the node to lead', 20_000, async () => {
      const response = await fetch(`http://127.0.0.1:${node.port}/health`)
      const body = (await response.json()) as { ready?: boolean; ha?: { role?: string } }
      return body.ha?.role === 'leader' && body.ready === true
    })
    node.child.kill('SIGHUP')
    const { code, stdout, stderr } = await ended(node)
    expect(code).toBe(0)
    expect(stdout).toContain('as leader')
    expect(stderr).toContain('SIGHUP: stopping')
    expect(readCurrentLease(node.leaseDir)).toMatchObject({ holderId: `running-leader http://127.0.0.1:${node.port}`, expiresAtMs: 0 })
  } finally {
    if (node.child.exitCode === null) node.child.kill('SIGKILL')
    await node.child.exited
  }
}, 30_000)
