/**
 * A renewal the file system refuses (a full disk under the lease directory, an EIO, a share gone for a moment) is not
 * a lost lease: the lease still holds until its expiry by this node's clocks, and no newer epoch exists. The leader
 * stepped down at the first such refusal — a failover (calls in flight read back, intake closed for a bootstrap)
 * for a blip that the next tick, a quarter TTL later, would have ridden out. It now keeps leading and tries again; a
 * lease that expires meanwhile, or is taken, still ends its lead (the log and the executor refuse at once).
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Lease, nodeIo, type WalIo } from '../../../wal/index.ts'
import { renewLease } from '../../../src/runtime/ha/leading.ts'
import type { NodeCore } from '../../../src/runtime/ha/node-core.ts'
import { removeDir } from '../harness.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir)
})

/** A lease on a directory whose renames fail with ENOSPC while `full.on`; the node view renewLease needs. */
function leaderOnFullDisk(clock: { nowMs: number }): { lease: Lease; full: { on: boolean }; node: NodeCore; changes: string[]; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'egress-lease-'))
  dirs.push(dir)
  const full = { on: false }
  const io: WalIo = {
    ...nodeIo,
    rename: (from, to) => {
      if (full.on) throw Object.assign(new Error(`ENOSPC: no space left on device, rename '${from}' -> '${to}'`), { code: 'ENOSPC' })
      nodeIo.rename(from, to)
    },
  }
  const lease = Lease.acquire({ dir, holderId: 'a http://127.0.0.1:1', ttlMs: 1000, clockSkewMsMax: 10, io, nowMs: () => clock.nowMs })
  const changes: string[] = []
  const lines: string[] = []
  // Only what renewLease reads of the node: its lease, log, stop flag and role changes.
  const node = {
    lease,
    stopping: false,
    options: { log: (line: string) => void lines.push(line) },
    exclusive: (name: string) => {
      changes.push(name)
      return Promise.resolve()
    },
  } as unknown as NodeCore
  return { lease, full, node, changes, lines }
}

test('a renewal refused with ENOSPC keeps the lead while the lease holds, and the next renewal extends it', () => {
  const clock = { nowMs: 1_000_000 }
  const { lease, full, node, changes, lines } = leaderOnFullDisk(clock)
  full.on = true
  clock.nowMs += 250
  renewLease(node)
  expect(changes).toEqual([])
  expect(lease.isHeld()).toBe(true)
  expect(lines.some((line) => line.includes('ENOSPC') && line.includes('retrying'))).toBe(true)
  full.on = false
  clock.nowMs += 250
  renewLease(node)
  clock.nowMs += 900
  expect(lease.isHeld()).toBe(true)
  expect(changes).toEqual([])
})

test('a renewal refused until the lease has expired steps down', () => {
  const clock = { nowMs: 1_000_000 }
  const { lease, full, node, changes } = leaderOnFullDisk(clock)
  full.on = true
  clock.nowMs += 1_000
  expect(lease.isHeld()).toBe(false)
  renewLease(node)
  expect(changes).toEqual(['step-down'])
})
