/**
 * A leader start that fails after the lease was taken spends that epoch and nothing else (leading.ts giveUp): the lease
 * is released (a standby need not wait for it to expire), no frame of the epoch is in the log, and the next start takes
 * the next epoch and leads. The epoch must be taken before the log opens for writing, so a failure found after it
 * (here bootstrap's hook; a snapshot or bootstrap refused alike) cannot be foreseen: one epoch per failed start.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { openReadOnly, readCurrentLease } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { leaderOptionsOf, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TTL_MS = 300

describe('a leader start that fails after taking the lease', () => {
  test('spends one epoch, released with nothing written at it; the next start leads at the next', async () => {
    const world = await startWorld({ seed: 35 })
    worlds.push(world)
    let attempts = 0
    const node = takeoverNode(cleanups, (dataDir, errors) => (_role, lease, beforeBootstrap) => {
      if (lease === null) throw new Error('no lease')
      const refuse = ++attempts === 1
      return Gateway.start({
        ...leaderOptionsOf(world, dataDir, errors, lease),
        beforeBootstrap: (engine, gateway) => {
          beforeBootstrap?.(engine, gateway)
          if (refuse) throw new Error('refused after the log opened (spec)')
        },
      })
    }, { oldLeader: false, leaseTtlMs: TTL_MS, role: 'auto' })
    expect(await node.node.start().then(() => null, (error: unknown) => String(error))).toBe('Error: refused after the log opened (spec)')
    expect(readCurrentLease(node.leaseDir)).toMatchObject({ epoch: 1, expiresAtMs: 0 })
    expect(openReadOnly(join(node.dataDir, 'log'), { verifyChain: false }).lastEpoch).toBe(0)

    // Started again (as a supervisor restarts it): the next epoch, and it leads.
    await node.node.start()
    expect({ role: node.node.role, epoch: node.node.status().epoch, attempts }).toEqual({ role: 'leader', epoch: 2, attempts: 2 })
    expect(node.errors).toEqual([])
  })
})
