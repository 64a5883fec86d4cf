import { afterEach, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { Lease, openReadOnly } from '../../../wal/index.ts'
import { parseConfig } from '../../../src/config/index.ts'
import { removeDir, run, startWorld, tempDataDir, traderA, worldsStoppedAfterEach, type World } from '../harness.ts'

const worlds = worldsStoppedAfterEach()
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir)
})

async function sealingAudit(): Promise<ReturnType<typeof parseConfig>['audit']> {
  const keyDir = tempDataDir()
  dirs.push(keyDir)
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey))
  const signingKeyFile = join(keyDir, 'seal.private.jwk.json')
  writeFileSync(signingKeyFile, JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'EdDSA', kid }), { mode: 0o600 })
  return parseConfig({ audit: { signingKeyFile, sealEveryRecords: 1_000, selfCheckEveryMs: 3_600_000 } }).audit
}

/** A leader holding epoch 1 of a fresh lease dir; with `sealing`, an audit signing key (seals are written). */
async function leaderWorld(seed: number, sealing: boolean): Promise<{ world: World; leaseDir: string; lease: Lease }> {
  const leaseDir = tempDataDir()
  dirs.push(leaseDir)
  const lease = Lease.acquire({ dir: leaseDir, holderId: 'a http://127.0.0.1:1', ttlMs: 60_000, clockSkewMsMax: 100 })
  const world = await startWorld({ seed, ...(sealing ? { audit: await sealingAudit() } : {}), wal: { lease, epoch: lease.epoch } })
  worlds.push(world)
  return { world, leaseDir, lease }
}

/** The leader places one order and lets it settle; returns the last LSN its log acknowledged. */
async function placedOne(world: World, clientOrderId: string): Promise<number> {
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: clientOrderId }
  expect((await world.gateway.place(traderA, body, null)).reply.kind).toBe('accepted')
  await run(world, 200)
  return world.gateway.engine.wal.lastLsn
}

/** Another node takes epoch 2 (its clock says epoch 1 expired: a paused leader, woken after the takeover). */
function takeOver(leaseDir: string): void {
  Lease.acquire({ dir: leaseDir, holderId: 'b http://127.0.0.1:2', ttlMs: 60_000, clockSkewMsMax: 100, nowMs: () => Date.now() + 120_000 })
}

/** A start with a sealing key runs the audit self-check on a thread, in real time: slow on a loaded machine. */
const START_WITH_AUDIT_MS_MAX = 20_000

describe('a deposed leader stopping', () => {
  test('writes no shutdown seal after a takeover: its log holds only what it acknowledged under the lease', async () => {
    const { world, leaseDir, lease } = await leaderWorld(21, true)
    const durableLsn = await placedOne(world, 'deposed-1')
    takeOver(leaseDir)
    expect(lease.isHeld()).toBe(false)
    await world.gateway.stop()
    // Everything on disk was acknowledged under the lease: a frame written after the takeover could never be, and
    // would make this node's log fork from the new leader's (DIVERGED: log moved aside, a full re-sync).
    const log = openReadOnly(join(world.dir, 'log'))
    expect(log.lastLsn).toBe(durableLsn)
  }, START_WITH_AUDIT_MS_MAX)

  test('a seal signed before the takeover and appended after it is refused, not written (a periodic seal in flight)', async () => {
    const { world, leaseDir } = await leaderWorld(22, true)
    const durableLsn = await placedOne(world, 'deposed-2')
    // The seal is signed asynchronously: its append reaches the log only after the takeover below.
    const sealing = world.gateway.audit?.sealNow()
    takeOver(leaseDir)
    await expect(sealing).rejects.toMatchObject({ code: 'LEASE_LOST' })
    await world.gateway.stop()
    const log = openReadOnly(join(world.dir, 'log'))
    expect(log.lastLsn).toBe(durableLsn)
  }, START_WITH_AUDIT_MS_MAX)

  test('once its log refused a write for the lost lease, every later append is refused with that error, not "log queue full"', async () => {
    const { world, leaseDir } = await leaderWorld(23, false)
    takeOver(leaseDir)
    const record = { type: 0xa0ff, version: 1, payload: new Uint8Array(1) }
    await expect(world.gateway.engine.appendRecords([record])).rejects.toMatchObject({ code: 'LEASE_LOST' })
    await expect(world.gateway.engine.appendRecords([record])).rejects.toMatchObject({ code: 'LEASE_LOST' })
  }, START_WITH_AUDIT_MS_MAX)
})
