import { describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import { AUDIT_SEAL, verifyLogDirectory } from '../../src/audit/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { parseConfig, type AuditConfig } from '../../src/config/index.ts'
import { STOP_DRAIN_MS_MAX } from '../../src/runtime/stop-drain.ts'
import { drive, removeDir, startWorld, tempDataDir, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

/**
 * A clean stop's order: everything submitted before intake stopped is durable and settled before the shutdown seal
 * reads the head, and nothing is recorded after the seal (the next start of a single node would take such a record
 * for one appended while no gateway ran: ANCHOR_MISMATCH).
 */

const worlds = worldsStoppedAfterEach()

async function auditConfig(dir: string): Promise<{ config: AuditConfig; publicKey: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk)
  const signingKeyFile = join(dir, 'seal.private.jwk.json')
  writeFileSync(signingKeyFile, JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'EdDSA', kid }), { mode: 0o600 })
  const config = parseConfig({ audit: { signingKeyFile, sealEveryRecords: 100_000, sealEveryMs: 86_400_000, selfCheckEveryMs: 1000 } }).audit
  return { config, publicKey: { ...publicJwk, alg: 'EdDSA', kid } }
}

const body = (id: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: id })

describe('a clean stop drains the commit queue before the shutdown seal', () => {
  /**
   * A world whose log flushes on the next turn of the event loop (as serve's, setImmediate), not on a microtask, so a
   * record queued when the stop begins is still waiting for its batch when the seal would read the head; `act` runs
   * before the stop and returns what to check after it. Then: the log verifies and nothing is left unsealed.
   */
  async function stoppedSealed(seed: number, act: (world: World) => () => Promise<void>): Promise<void> {
    const keyDir = tempDataDir()
    try {
      const { config, publicKey } = await auditConfig(keyDir)
      const world = await startWorld({ seed, audit: config, wal: { scheduleFlush: (flush) => void setImmediate(flush) } })
      worlds.push(world)
      const check = act(world)
      await world.gateway.stop()
      await check()
      const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey })
      expect(report.ok).toBe(true)
      // The shutdown seal signs the head through every record before its own: none is left unsealed.
      expect(report.seals.unsealedRecords).toBe(0)
      expect(world.errors).toEqual([])
    } finally {
      removeDir(keyDir)
    }
  }

  test('an order placed just before stop is durable before the seal reads the head: the seal covers it', async () => {
    await stoppedSealed(41, (world) => {
      // Submitted, not yet durable (its batch is still queued) when the stop begins.
      const placed = world.gateway.place(traderA, body('late-1'), null)
      const lsnBefore = world.gateway.engine.appendedLsn
      return async () => {
        const answer = await placed
        expect(answer.reply.kind).toBe('accepted')
        expect(answer.lsn).toBe(lsnBefore)
      }
    })
  })

  test('a command submitted as the engine settles, before the close, is durable before the seal: nothing lands between the head it signs and its record', async () => {
    await stoppedSealed(43, (world) => {
      const first = world.gateway.place(traderA, body('settling-1'), null)
      // A caller that resumes when the engine settles and submits its next command (as an executor's answer does):
      // registered before the stop, so it runs in the turn the drain's own wait ends in, before the engine closes.
      const later: Promise<Awaited<typeof first>>[] = []
      void world.gateway.engine.settled().then(() => {
        later.push(world.gateway.place(traderA, body('settling-2'), null))
      })
      return async () => {
        expect((await first).reply.kind).toBe('accepted')
        expect(later.length).toBe(1)
        expect((await (later[0] as Promise<Awaited<typeof first>>)).reply.kind).toBe('accepted')
      }
    })
  })

  test('a venue answer that comes back while the gateway stops is not recorded after the seal, and the restart finds nothing', async () => {
    const keyDir = tempDataDir()
    try {
      const { config } = await auditConfig(keyDir)
      const world = await startWorld({ seed: 42, audit: config, venueOptions: { latencyMsMin: 50, latencyMsMax: 50 } })
      worlds.push(world)
      const placed = await world.gateway.place(traderA, body('inflight-1'), null)
      if (placed.reply.kind !== 'accepted') throw new Error(`expected an accepted order, got ${placed.reply.kind}`)
      const orderId = placed.reply.orderId
      // Let the executor record the send and call the venue, whose answer is 50 ms away on the simulated clock.
      for (let step = 0; step < 5 && world.gateway.executor.stats.callsInFlight === 0; step++) await world.clock.advanceAsync(1)
      expect(world.gateway.executor.stats.callsInFlight).toBe(1)
      const stopping = world.gateway.stop()
      // The venue answers while the stop is under way (its seal, anchor and snapshot).
      for (let step = 0; step < 20; step++) await world.clock.advanceAsync(10)
      await stopping
      // The seal is the log's last record; the answer was refused, so the order is still in flight in the log.
      const wal = world.gateway.engine.wal
      expect(world.gateway.audit?.lastFinding ?? null).toBeNull()
      expect([...wal.read(wal.lastLsn)][0]?.type).toBe(AUDIT_SEAL.type)
      // Refused as expected at a stop: counted, not reported as an error (a serve's onError that throws, as specs' do,
      // failed on it: specs/cli/serve-sim-instruments.test.ts, paper-sim-resume-day.test.ts).
      expect(world.errors.filter((line) => line.includes('WalClosedError'))).toEqual([])
      expect(world.gateway.executor.stats.answersRefusedAtStop).toBe(1)
      const restarted = await startWorld({ seed: 42, dir: world.dir, clock: world.clock, venue: world.venue, audit: config })
      worlds.push(restarted)
      expect(restarted.gateway.audit?.lastFinding ?? null).toBeNull()
      expect(restarted.gateway.engine.state.tradingSwitch).not.toBe('halted')
      // The restart read the order back from the venue, which has it (and filled it): a definite state, never sent again.
      expect(restarted.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
      const requests = restarted.venue.inspect().requests
      expect(requests.calls.place).toBe(1)
      expect(requests.duplicatePlaces).toBe(0)
    } finally {
      removeDir(keyDir)
    }
  })

  test('the drain is bounded: a command that never settles (a send held for a standby that never answers) delays the stop by STOP_DRAIN_MS_MAX, then it seals and closes', async () => {
    const keyDir = tempDataDir()
    try {
      const { config } = await auditConfig(keyDir)
      const world = await startWorld({ seed: 43, audit: config })
      worlds.push(world)
      // A place-send gate that never answers: the send decision's command never settles.
      world.gateway.engine.placeSendGate = () => new Promise(() => undefined)
      const placed = await world.gateway.place(traderA, body('held-1'), null)
      expect(placed.reply.kind).toBe('accepted')
      for (let step = 0; step < 20 && world.gateway.engine.pending === 0; step++) await world.clock.advanceAsync(1)
      expect(world.gateway.engine.pending).toBe(1)
      let stopped = false
      const stopping = world.gateway.stop().then(() => (stopped = true))
      // Just short of the bound the stop still waits (before, it waited for good: the old code had no bound).
      for (let elapsedMs = 0; elapsedMs < STOP_DRAIN_MS_MAX - 10; elapsedMs += 10) await world.clock.advanceAsync(10)
      await Bun.sleep(20)
      expect(stopped).toBe(false)
      expect(world.gateway.engine.wal.isClosed).toBe(false)
      await drive(world, stopping)
      expect(stopped).toBe(true)
      expect(world.errors.some((line) => line.startsWith('stopping: Error: 1 command(s) still wait for the log'))).toBe(true)
      const wal = world.gateway.engine.wal
      expect([...openReadOnly(join(world.dir, 'log')).read(wal.lastLsn)][0]?.type).toBe(AUDIT_SEAL.type)
    } finally {
      removeDir(keyDir)
    }
  })
})
