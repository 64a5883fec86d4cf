/**
 * A lease lost while a takeover's leader gateway starts (leading.ts `lead`): under CPU load a 500 ms lease ran out,
 * or another node took a newer epoch, during the bootstrap, and the gateway's log was fenced (a write refused: it died
 * of the LeaseError) just as the start finished. The node reported itself leader on that gateway anyway, and the end
 * of the takeover found a leader whose gateway was not a started leader gateway: NODE_STUCK, the process exited, and
 * after a site loss no node led until a supervisor restarted it. It is a step-down instead: the gateway is stopped
 * without ever being handed to the HTTP layer, the lease given up, the node follows again — and takes over again
 * once the newer lease runs out. So does a node whose start-up took the free lease and lost it the same way: it
 * follows (`auto`) or waits for the lease again (`leader`), where its start failed and the process exited. Nothing was sent under the lost lease: the fenced log refuses every write (group
 * commit's assertHeld), and a venue is only called after its send record is durable.
 */

import { afterEach, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LeaseError, readCurrentLease, type Lease, type LeaseRecord } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { standbyOptionsOf, startWorld, traderA, worldsStoppedAfterEach, type World } from '../harness.ts'
import { waitFor } from './support.ts'
import { leaderOptionsOf, takeoverNode, type TakeoverNode, type TakeoverNodeOptions } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const OTHER = 'other http://127.0.0.1:3'
/** How long the other node's newer lease lives: long enough to see this node follow, short enough to take over again. */
const OTHER_LEASE_MS = 600

/** Another node takes epoch `lease.epoch + 1` (its record expiring in OTHER_LEASE_MS): `lease` is fenced from now on. */
function takeNewerEpoch(leaseDir: string, lease: Lease): void {
  const now = Date.now()
  const epoch = lease.epoch + 1
  const record: LeaseRecord = { holderId: OTHER, epoch, expiresAtMs: now + OTHER_LEASE_MS, renewedAtMs: now, replicatedLsn: 0 }
  writeFileSync(join(leaseDir, `epoch-${String(epoch).padStart(10, '0')}.json`), JSON.stringify(record))
}

function placeCallsOf(world: World): number {
  return world.venue.inspect().requests.calls.place
}

interface FirstStart {
  gateway: Gateway | null
  /** The write tried on the first leader gateway after its lease was lost: refused with this. */
  refused: unknown
  /** The venue's place calls when the lease was lost. */
  placeCallsAtLoss: number
}

/**
 * A node whose first leader start loses its lease at its end (the newer epoch taken; `fencedWrite`: then a write is
 * tried, and its log dies of the refusal). Later starts are left alone.
 */
function nodeLosingItsFirstLease(world: World, fencedWrite: boolean, handed: Gateway[], options: TakeoverNodeOptions = {}): { taking: TakeoverNode; first: FirstStart } {
  const first: FirstStart = { gateway: null, refused: null, placeCallsAtLoss: -1 }
  let leaderStarts = 0
  const taking = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
      if (lease === null) throw new Error('no lease')
      const gateway = await Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
      if (++leaderStarts > 1) return gateway
      first.gateway = gateway
      takeNewerEpoch(taking.leaseDir, lease)
      first.placeCallsAtLoss = placeCallsOf(world)
      if (fencedWrite) {
        const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: 'fenced-1' }
        first.refused = await gateway.place(traderA, body, null).then((result) => result.reply, (error: unknown) => error)
      }
      return gateway
    },
    { ...options, onGateway: (gateway) => void handed.push(gateway) },
  )
  return { taking, first }
}

test('a lease lost (the log fenced) as the takeover\'s leader start ends: the node follows again, not NODE_STUCK, and takes over again later', async () => {
  const world = await startWorld({ seed: 141 })
  worlds.push(world)
  const handed: Gateway[] = []
  const { taking, first } = nodeLosingItsFirstLease(world, true, handed)
  const { node, leaseDir, logLines } = taking
  await node.start()
  // Epoch 1 the old leader's, 2 taken and lost by this node, 3 the other's; this node takes 4 once 3 runs out.
  await waitFor(() => node.failure !== null || (node.role === 'leader' && node.lease?.epoch === 4), 10_000, 'the node led again at epoch 4, or failed')
  expect({ role: node.role, failure: node.failure?.message ?? null }).toEqual({ role: 'leader', failure: null })
  expect(readCurrentLease(leaseDir)).toMatchObject({ holderId: node.holderId, epoch: 4 })
  // The lost term's gateway: its log died of the lease, it was stopped, and the HTTP layer never had it.
  const lost = first.gateway
  if (lost === null) throw new Error('no first leader gateway')
  expect(lost.engine.wal.fatalError).toBeInstanceOf(LeaseError)
  expect(lost.ready).toBe(false)
  expect(lost.engine.wal.isClosed).toBe(true)
  expect(handed.includes(lost)).toBe(false)
  expect(handed.at(-1) === node.gateway).toBe(true)
  // Nothing it was asked to do under the lost lease reached the venue.
  expect(first.refused).toBeInstanceOf(LeaseError)
  expect(placeCallsOf(world)).toBe(first.placeCallsAtLoss)
  expect(logLines.some((line) => line.includes('lease epoch 2 was lost while the leader started'))).toBe(true)
  expect(logLines.some((line) => line.includes('NODE_STUCK'))).toBe(false)
}, 30_000)

test('a lease lost while the leader started, its log not yet refused a write: the node never reports leader on it', async () => {
  const world = await startWorld({ seed: 142 })
  worlds.push(world)
  const handed: Gateway[] = []
  const { taking, first } = nodeLosingItsFirstLease(world, false, handed)
  const { node } = taking
  await node.start()
  await waitFor(() => node.failure !== null || (node.role === 'leader' && node.lease?.epoch === 4), 10_000, 'the node led again at epoch 4, or failed')
  expect({ role: node.role, failure: node.failure?.message ?? null }).toEqual({ role: 'leader', failure: null })
  const lost = first.gateway
  if (lost === null) throw new Error('no first leader gateway')
  // Handed to the HTTP layer, a deposed gateway answered requests until the next renewal found the lease lost.
  expect(handed.includes(lost)).toBe(false)
  expect(lost.engine.wal.isClosed).toBe(true)
  expect(placeCallsOf(world)).toBe(first.placeCallsAtLoss)
}, 30_000)

for (const role of ['auto', 'leader'] as const) {
  test(`a lease lost as the leader start of a node started \`${role}\` ends: no failed start, it leads once the newer lease runs out`, async () => {
    const world = await startWorld({ seed: 143 })
    worlds.push(world)
    const handed: Gateway[] = []
    const { taking, first } = nodeLosingItsFirstLease(world, true, handed, { oldLeader: false, role })
    const { node, leaseDir, logLines } = taking
    // Epoch 1 taken at start-up and lost, 2 the other's; this node takes 3 once 2 runs out.
    await node.start()
    expect({ role: node.role, failure: node.failure?.message ?? null }).toEqual({ role: role === 'auto' ? 'standby' : 'leader', failure: null })
    await waitFor(() => node.failure !== null || (node.role === 'leader' && node.lease?.epoch === 3), 10_000, 'the node led at epoch 3, or failed')
    expect({ role: node.role, failure: node.failure?.message ?? null }).toEqual({ role: 'leader', failure: null })
    expect(readCurrentLease(leaseDir)).toMatchObject({ holderId: node.holderId, epoch: 3 })
    const lost = first.gateway
    if (lost === null) throw new Error('no first leader gateway')
    expect(handed.includes(lost)).toBe(false)
    expect(lost.engine.wal.isClosed).toBe(true)
    expect(first.refused).toBeInstanceOf(LeaseError)
    expect(placeCallsOf(world)).toBe(first.placeCallsAtLoss)
    expect(logLines.some((line) => line.includes('lease epoch 1 was lost while the leader started'))).toBe(true)
  }, 30_000)
}

test('a leader start that itself fails on its lost lease (the log refused at its open) at start-up: the node follows, then leads', async () => {
  const world = await startWorld({ seed: 144 })
  worlds.push(world)
  let leaderStarts = 0
  let firstRefusal: unknown = null
  const taking = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
      if (lease === null) throw new Error('no lease')
      if (++leaderStarts === 1) {
        takeNewerEpoch(taking.leaseDir, lease)
        firstRefusal = await Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap)).then(() => null, (error: unknown) => error)
        throw firstRefusal
      }
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    },
    { oldLeader: false, role: 'auto' },
  )
  const { node, logLines } = taking
  await node.start()
  expect(firstRefusal).toBeInstanceOf(LeaseError)
  expect({ role: node.role, failure: node.failure?.message ?? null }).toEqual({ role: 'standby', failure: null })
  await waitFor(() => node.failure !== null || (node.role === 'leader' && node.lease?.epoch === 3), 10_000, 'the node led at epoch 3, or failed')
  expect({ role: node.role, failure: node.failure?.message ?? null }).toEqual({ role: 'leader', failure: null })
  expect(logLines.some((line) => line.includes('lease epoch 1 was lost while the leader started: the start failed'))).toBe(true)
}, 30_000)
