/**
 * A standby whose lease directory cannot be read (an epoch file that is no lease record, EACCES, an NFS share gone)
 * cannot tell whether the leader lives, so it does not take over. It used to say so with a stack trace at every
 * tick (every ttl/4): the takeover check threw LEASE_FILE_INVALID into the role change, which logged `error.stack`.
 * It now logs the typed code once when the trouble begins (or changes), a reminder at most once a minute, and once
 * when the directory can be read again — and then takes over as usual.
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LeaseError } from '../../../wal/index.ts'
import { LeaseTrouble } from '../../../src/runtime/ha/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { waitFor } from './support.ts'
import { TAKEOVER_TTL_MS, takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const EPOCH_FILE = 'epoch-0000000001.json'

test('an unreadable lease is logged once with its code (no stack trace per tick), and once readable again the standby takes over', async () => {
  const world = await startWorld({ seed: 381 })
  worlds.push(world)
  const { node, leaseDir, logLines } = takeoverNode(cleanups, worldGateways(world))
  // The old leader's epoch file turns into something no lease record is (EISDIR on read): nobody can say who leads.
  rmSync(join(leaseDir, EPOCH_FILE))
  mkdirSync(join(leaseDir, EPOCH_FILE))
  await node.start()
  expect(node.role).toBe('standby')
  const troubleLines = (): string[] => logLines.filter((line) => line.includes('LEASE_FILE_INVALID'))
  await waitFor(() => troubleLines().length > 0, 3_000, 'the unreadable lease reported')
  // Ten more ticks (ttl/4 each) with the lease still unreadable: nothing more is said, and never a stack trace.
  await Bun.sleep(TAKEOVER_TTL_MS * 2.5)
  expect(troubleLines().length).toBe(1)
  expect(troubleLines()[0]).toMatch(/^ha: LEASE_FILE_INVALID: .*epoch-0000000001\.json cannot be read \(EISDIR\)/)
  expect(logLines.filter((line) => /\n\s+at /.test(line))).toEqual([])
  expect(node.role).toBe('standby')
  // Readable again (an expired record): said once, and the standby takes over at epoch 2.
  rmSync(join(leaseDir, EPOCH_FILE), { recursive: true })
  writeFileSync(join(leaseDir, EPOCH_FILE), JSON.stringify({ holderId: 'old http://127.0.0.1:1', epoch: 1, expiresAtMs: 0, renewedAtMs: 0 }))
  await waitFor(() => node.role === 'leader', 5_000, `a takeover (role ${node.role}; ${logLines.join(' | ')})`)
  expect(node.lease?.epoch).toBe(2)
  expect(logLines.filter((line) => line.startsWith('ha: the lease directory can be read again'))).toHaveLength(1)
}, 30_000)

test('the trouble is said once per change, again at most once per reminder interval while it lasts, and once when it ends', () => {
  let nowMs = 0
  const lines: string[] = []
  const trouble = new LeaseTrouble((line) => void lines.push(line), () => nowMs, 60_000)
  const invalid = new LeaseError('LEASE_FILE_INVALID', '/leases/epoch-0000000003.json cannot be read (EACCES) (refusing to guess who holds it)')
  for (let tick = 0; tick < 1_000; tick++, nowMs += 50) trouble.failed(invalid) // 50 s of ticks
  expect(lines).toHaveLength(1)
  nowMs = 60_000
  trouble.failed(invalid)
  trouble.failed(invalid)
  expect(lines).toHaveLength(2)
  expect(lines[1]).toMatch(/^ha: LEASE_FILE_INVALID: .*; still, for 60 s/)
  // Another trouble is a change: said at once, with its own code.
  trouble.failed(Object.assign(new Error('EIO: i/o error, scandir'), { code: 'EIO' }))
  expect(lines[2]).toMatch(/^ha: LEASE_DIR_UNUSABLE: the lease directory answered EIO/)
  nowMs += 1_500
  trouble.cleared()
  trouble.cleared()
  expect(lines.slice(3)).toEqual(['ha: the lease directory can be read again, after 1500 ms of LEASE_DIR_UNUSABLE'])
})
