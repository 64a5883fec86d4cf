import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { readAnchorsFile, tamperRecord, verifyLogDirectory } from '../../src/audit/index.ts'
import { openReadOnly, Wal } from '../../wal/index.ts'
import { parseConfig, type AuditConfig } from '../../src/config/index.ts'
import type { AuditDuty } from '../../src/runtime/audit-duty.ts'
import { withEvidence } from '../support/evidence.ts'
import { crashWorld, removeDir, run, startWorld, tempDataDir, traderA, type World, type WorldOptions } from './harness.ts'

const dirs: string[] = []
const worlds: World[] = []
afterEach(async () => {
  for (const world of worlds.splice(0)) await world.gateway.stop().catch(() => undefined)
  for (const dir of dirs.splice(0)) removeDir(dir)
})

async function auditConfig(overrides: Partial<AuditConfig> = {}): Promise<{ config: AuditConfig; publicKeyFile: string }> {
  const keyDir = tempDataDir()
  dirs.push(keyDir)
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk)
  const signingKeyFile = join(keyDir, 'seal.private.jwk.json')
  const publicKeyFile = join(keyDir, 'seal.public.jwk.json')
  writeFileSync(signingKeyFile, JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'EdDSA', kid }), { mode: 0o600 })
  writeFileSync(publicKeyFile, JSON.stringify({ ...publicJwk, alg: 'EdDSA', kid }), { mode: 0o644 })
  const config = parseConfig({ audit: { signingKeyFile, sealEveryRecords: 20, selfCheckEveryMs: 1000, ...overrides } }).audit
  return { config, publicKeyFile }
}

/** A world running the audit duty; stopped (if the test has not) and removed after the test. */
async function auditWorld(options: WorldOptions & { audit: AuditConfig }): Promise<{ world: World; duty: AuditDuty }> {
  const world = await startWorld(options)
  worlds.push(world)
  dirs.push(world.dir)
  const duty = world.gateway.audit
  if (duty === null) throw new Error('the world has no audit duty')
  return { world, duty }
}

/** Flips one payload bit of record `lsn` in the first segment and fixes up its CRC, so only the chain can tell. */
function editRecord(world: World, lsn: number): { segment: string; offset: number } {
  const segment = join(world.dir, 'log', readdirSync(join(world.dir, 'log')).filter((name) => name.endsWith('.seg')).sort()[0] as string)
  const bytes = readFileSync(segment)
  const view = new DataView(bytes.buffer, bytes.byteOffset)
  let offset = 64
  while (view.getUint32(offset + 40, true) !== lsn) offset += view.getUint32(offset, true) + 8
  bytes[offset + 60] = (bytes[offset + 60] as number) ^ 0x01
  view.setUint32(offset + 4, Bun.hash.crc32(bytes.subarray(offset + 8, offset + 8 + view.getUint32(offset, true))), true)
  writeFileSync(segment, bytes)
  return { segment, offset }
}

const body = (id: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: id })

describe('audit duties of the running gateway', () => {
  test('the head is sealed every N records and at clean shutdown, and the log verifies with its seals', async () => {
    const { config, publicKeyFile } = await auditConfig()
    const { world } = await auditWorld({ seed: 11, audit: config })
    for (let index = 0; index < 10; index++) await world.gateway.place(traderA, body(`s-${index}`), null)
    await run(world, 300)
    await world.gateway.stop()
    const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey: JSON.parse(readFileSync(publicKeyFile, 'utf8')) })
    expect(report.ok).toBe(true)
    expect(report.seals.checked).toBeGreaterThanOrEqual(2)
    expect(report.seals.unsealedRecords).toBe(0) // the shutdown seal covers everything before it
    expect(world.errors).toEqual([])
  })

  test('sealNow with nothing appended since its last seal answers that seal and writes nothing (an anchor loop wrote one per call)', async () => {
    const { config } = await auditConfig({ sealEveryRecords: 100_000, sealEveryMs: 86_400_000 })
    const { world, duty } = await auditWorld({ seed: 13, audit: config })
    await world.gateway.place(traderA, body('idle-1'), null)
    await run(world, 100)
    await world.gateway.engine.settled()
    const first = await duty.sealNow()
    if (first === null) throw new Error('expected a seal')
    const sealedThrough = world.gateway.engine.wal.lastLsn
    expect(sealedThrough).toBe(first.recordLsn)
    expect(first.reused).toBe(false)
    // The same seal, said to be reused: its sealedAtMs is when it was signed, before these calls.
    for (let index = 0; index < 5; index++) expect(await duty.sealNow()).toEqual({ ...first, reused: true })
    expect(world.gateway.engine.wal.lastLsn).toBe(sealedThrough)
    // Something new: sealed again, linked to the first.
    await world.gateway.place(traderA, body('idle-2'), null)
    const next = await duty.sealNow()
    expect(next?.claims.prevSealLsn).toBe(first.recordLsn)
    expect(next?.reused).toBe(false)
    expect(next?.recordLsn).toBeGreaterThan(sealedThrough)
  })

  test('an edited record found by the self-check halts new orders, is logged, and leaves a forensics bundle', async () => {
    const invariant = 'a record edited under a running gateway is found by its self-check (CHAIN_BREAK), which engages HALT, refuses the next new order and writes a forensics bundle (§9 tamper response)'
    await withEvidence({ id: 'audit.tamper-response', kind: 'fault', spec: 'specs/runtime/audit-duty.test.ts', invariant, expected: { cases: 1 } }, async () => {
      const forensics = tempDataDir()
      dirs.push(forensics)
      const { config } = await auditConfig({ tamperResponse: 'HALT', forensicsDir: forensics })
      const { world, duty } = await auditWorld({ seed: 12, audit: config })
      await world.gateway.place(traderA, body('t-1'), null)
      await run(world, 100)
      // Edit a record the self-check has not yet covered (the last but one).
      const target = world.gateway.engine.wal.lastLsn - 1
      editRecord(world, target)
      await duty.selfCheck()
      expect(duty.verified).toBe(false)
      expect(duty.lastFinding?.code).toBe('CHAIN_BREAK')
      expect(world.gateway.engine.state.tradingSwitch).toBe('halted')
      const refused = await world.gateway.place(traderA, body('t-2'), null)
      expect(refused.reply.kind).toBe('rejected')
      expect(readdirSync(forensics).length).toBe(1)
      expect(world.errors).toEqual([])
      return { cases: 1, details: { editedLsn: target, finding: duty.lastFinding?.code, switch: world.gateway.engine.state.tradingSwitch } }
    })
  })

  test('with no forensicsDir configured the bundle goes to <dataDir>/forensics, created durably on first use', async () => {
    // Before, nothing created the default directory: the first tamper finding's bundle failed (ENOENT), only reported.
    const { config } = await auditConfig({ tamperResponse: 'HALT' })
    const { world, duty } = await auditWorld({ seed: 19, audit: config })
    await world.gateway.place(traderA, body('d-1'), null)
    await run(world, 100)
    editRecord(world, world.gateway.engine.wal.lastLsn - 1)
    await duty.selfCheck()
    expect(duty.lastFinding?.code).toBe('CHAIN_BREAK')
    expect(world.errors).toEqual([])
    const bundles = readdirSync(join(world.dir, 'forensics'))
    expect(bundles.length).toBe(1)
    expect(readdirSync(join(world.dir, 'forensics', bundles[0] as string))).toContain('manifest.json')
  })

  test('a kill switch the engine refuses still leaves the forensics bundle, and the refusal is reported', async () => {
    const forensics = tempDataDir()
    dirs.push(forensics)
    const { config } = await auditConfig({ tamperResponse: 'HALT', forensicsDir: forensics })
    const { world, duty } = await auditWorld({ seed: 18, audit: config })
    await world.gateway.place(traderA, body('k-1'), null)
    await run(world, 100)
    const target = world.gateway.engine.wal.lastLsn - 1
    editRecord(world, target)
    const engine = world.gateway.engine
    const submit = engine.submit.bind(engine)
    engine.submit = (command) => (command.kind === 'kill_switch' ? Promise.reject(new Error('engine overloaded')) : submit(command))
    try {
      await duty.selfCheck()
    } finally {
      engine.submit = submit
    }
    expect(duty.lastFinding?.code).toBe('CHAIN_BREAK')
    expect(readdirSync(forensics).length).toBe(1)
    expect(world.errors.some((line) => line.includes('the kill switch was not applied') && line.includes('engine overloaded'))).toBe(true)
  })

  test('a record the self-check passed long ago, edited later, is found by a later check (its sweep): CANCEL_ONLY, forensics bundle', async () => {
    const forensics = tempDataDir()
    dirs.push(forensics)
    const { config } = await auditConfig({ tamperResponse: 'CANCEL_ONLY', forensicsDir: forensics, selfCheckEveryMs: 3_600_000 })
    const { world, duty } = await auditWorld({ seed: 17, audit: config })
    await world.gateway.place(traderA, body('o-1'), null)
    await run(world, 100)
    // The records so far, LSN 2 among them, are passed (the simulated venue may append more while the check runs).
    const headLsn = world.gateway.engine.wal.lastLsn
    expect(await duty.selfCheck()).toBeNull()
    expect(duty.verifiedThroughLsn).toBeGreaterThanOrEqual(headLsn)
    // LSN 2, long passed: one payload byte edited, its CRC fixed up.
    const { segment, offset } = editRecord(world, 2)
    await world.gateway.place(traderA, body('o-2'), null)
    await run(world, 100)
    await duty.selfCheck()
    expect(duty.lastFinding).toMatchObject({ code: 'CHAIN_BREAK', lsn: 2, file: segment, offsetBytes: offset })
    expect(world.gateway.engine.state.tradingSwitch).toBe('cancel_only')
    expect(readdirSync(forensics).length).toBe(1)
    expect(world.errors).toEqual([])
  })

  test('a self-check over a long stretch runs in its own thread: the event loop never reads the log for it', async () => {
    const { config } = await auditConfig({ sealEveryRecords: 100 })
    const { world, duty } = await auditWorld({ seed: 13, audit: config })
    for (let index = 0; index < 80; index++) await world.gateway.place(traderA, body(`l-${index}`), null)
    await run(world, 300)
    const wal = world.gateway.engine.wal
    const headLsn = wal.lastLsn
    const read = wal.read.bind(wal)
    let readsOnLoop = 0
    wal.read = (...args: Parameters<typeof wal.read>) => {
      readsOnLoop++
      return read(...args)
    }
    try {
      expect(await duty.selfCheck()).toBeNull()
    } finally {
      wal.read = read
    }
    expect(readsOnLoop).toBe(0)
    expect(duty.verified).toBe(true)
    expect(duty.verifiedThroughLsn).toBeGreaterThanOrEqual(headLsn)
    expect(world.errors).toEqual([])
  })

  test('the periodic check runs on its own and ends its thread when the gateway stops', async () => {
    const { config } = await auditConfig({ sealEveryRecords: 1_000, selfCheckEveryMs: 1_000 })
    const { world, duty } = await auditWorld({ seed: 14, audit: config })
    for (let index = 0; index < 150; index++) await world.gateway.place(traderA, body(`p-${index}`), null)
    await run(world, 300)
    const headLsn = world.gateway.engine.wal.lastLsn
    expect(duty.verifiedThroughLsn).toBeLessThan(headLsn)
    await run(world, 1_100) // the periodic check is due
    for (let waited = 0; duty.verifiedThroughLsn < headLsn && waited < 200; waited++) await Bun.sleep(10)
    expect(duty.verifiedThroughLsn).toBeGreaterThanOrEqual(headLsn)
    expect(duty.verified).toBe(true)
    await world.gateway.stop()
    await expect(duty.selfCheck()).rejects.toThrow('the thread was stopped')
    expect(world.errors).toEqual([])
  })

  test('a stop during a periodic check is not an error, and nothing is scheduled after it', async () => {
    const { config } = await auditConfig({ sealEveryRecords: 1_000, selfCheckEveryMs: 1_000 })
    const { world, duty } = await auditWorld({ seed: 15, audit: config })
    for (let index = 0; index < 150; index++) await world.gateway.place(traderA, body(`q-${index}`), null)
    await run(world, 1_100) // the periodic check starts, and is in its thread
    const state = duty as unknown as { checking: boolean; timerCancel: (() => void) | null }
    expect(state.checking).toBe(true)
    await world.gateway.stop()
    for (let waited = 0; state.checking && waited < 200; waited++) await Bun.sleep(10)
    expect(state.checking).toBe(false)
    expect(state.timerCancel).toBeNull()
    expect(world.errors).toEqual([])
  })

  test('compaction leaves the segments the self-check has not verified; they go once it has', async () => {
    // No periodic check in this test's time: only the check at start and the one the test runs.
    const { config } = await auditConfig({ selfCheckEveryMs: 3_600_000 })
    const { world, duty: audit } = await auditWorld({ seed: 16, audit: config, wal: { segmentBytesMax: 4096 }, snapshots: { keep: 1, atShutdown: false, compaction: 'delete' } })
    const wal = world.gateway.engine.wal
    const verifiedAtStart = audit.verifiedThroughLsn
    for (let index = 0; index < 40; index++) await world.gateway.place(traderA, body(`c-${index}`), null)
    await run(world, 300)
    expect(wal.segments.length).toBeGreaterThan(3)

    await world.gateway.snapshot()
    const held = world.gateway.snapshotter.stats.lastCompaction
    expect(held?.heldBack).toBe(true)
    expect(held?.boundLsn).toBe(verifiedAtStart + 1)
    expect(held?.basis?.lsn).toBeGreaterThan(verifiedAtStart + 1)
    // Every record after the last verified one is still in the log, so the next check can read it.
    expect(wal.firstLsn).toBeLessThanOrEqual(verifiedAtStart + 1)
    const segmentsHeld = wal.segments.length

    // A new record for the next snapshot to stand on, and a check through it.
    await world.gateway.place(traderA, body('c-last'), null)
    await run(world, 100)
    // A record may still be appended while the check runs in its thread — the seal due at the 20th record, which the
    // sealer signs asynchronously (seen: one audit.seal after the head): the check covers at least the head it started
    // from.
    const headBeforeCheck = wal.lastLsn
    expect(await audit.selfCheck()).toBeNull()
    expect(audit.verifiedThroughLsn).toBeGreaterThanOrEqual(headBeforeCheck)
    await world.gateway.snapshot()
    const after = world.gateway.snapshotter.stats.lastCompaction
    expect(after?.heldBack).toBe(false)
    expect(after?.removed.length).toBeGreaterThan(0)
    expect(wal.segments.length).toBeLessThan(segmentsHeld)
    expect(await audit.selfCheck()).toBeNull()
    expect(world.errors).toEqual([])
  })
})

/** Cuts the log's last segment just before record `lsn`: a clean truncation at a frame boundary (no torn tail). */
function cutLogBefore(world: World, lsn: number): void {
  const logDir = join(world.dir, 'log')
  const segment = join(logDir, readdirSync(logDir).filter((name) => name.endsWith('.seg')).sort().at(-1) as string)
  const bytes = readFileSync(segment)
  const view = new DataView(bytes.buffer, bytes.byteOffset)
  let offset = 64
  while (view.getUint32(offset + 40, true) !== lsn) offset += view.getUint32(offset, true) + 8
  writeFileSync(segment, bytes.subarray(0, offset))
}

describe('periodic anchors', () => {
  test('a seal\'s anchor goes to <dataDir>/audit/anchors.jsonl at most once per anchorEveryMs, and at clean shutdown', async () => {
    const { config, publicKeyFile } = await auditConfig({ sealEveryRecords: 4, anchorEveryMs: 86_400_000 })
    const { world, duty } = await auditWorld({ seed: 17, audit: config })
    for (let index = 0; index < 10; index++) await world.gateway.place(traderA, body(`a-${index}`), null)
    await run(world, 300)
    await duty.anchorsIdle()
    const path = join(world.dir, 'audit', 'anchors.jsonl')
    // Many seals within the day, one anchor: the first seal's.
    expect(readAnchorsFile(path)).toHaveLength(1)
    expect(duty.anchorCounts).toEqual({ written: 1, failures: 0 })
    await world.gateway.stop()
    const anchors = readAnchorsFile(path)
    expect(anchors).toHaveLength(2)
    // The shutdown anchor is the log's last seal, which covers every record before it.
    const key = JSON.parse(readFileSync(publicKeyFile, 'utf8'))
    const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey: key, anchors })
    expect(report.problems).toEqual([])
    expect(report.anchors.checked).toBe(2)
    expect((anchors.at(-1) as { sealRecordLsn?: number }).sealRecordLsn).toBe(report.lastLsn)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(world.errors).toEqual([])
  })

  test('a log cut short at a frame boundary, chain intact, is found by its anchors (ANCHOR_BEYOND_END)', async () => {
    const { config, publicKeyFile } = await auditConfig({ sealEveryRecords: 4, anchorEveryMs: 1_000 })
    const { world } = await auditWorld({ seed: 19, audit: config })
    for (let index = 0; index < 6; index++) await world.gateway.place(traderA, body(`t-${index}`), null)
    await run(world, 300)
    await world.gateway.stop()
    const anchors = readAnchorsFile(join(world.dir, 'audit', 'anchors.jsonl'))
    const last = anchors.at(-1) as { lsn: number }
    // The records after the last anchored head and its seal record gone: every CRC and the chain still verify.
    cutLogBefore(world, last.lsn)
    const key = JSON.parse(readFileSync(publicKeyFile, 'utf8'))
    expect((await verifyLogDirectory(join(world.dir, 'log'), { publicKey: key })).ok).toBe(true)
    const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey: key, anchors })
    expect(report.firstProblem?.code).toBe('ANCHOR_BEYOND_END')
  })

  test('an anchor that cannot be written is reported and counted; orders go on', async () => {
    const blocker = join(tempDataDir(), 'not-a-dir')
    dirs.push(join(blocker, '..'))
    writeFileSync(blocker, 'a file where the anchors directory should be')
    const { config } = await auditConfig({ sealEveryRecords: 4, anchorEveryMs: 86_400_000, anchorsFile: join(blocker, 'anchors.jsonl') })
    const { world, duty } = await auditWorld({ seed: 23, audit: config })
    for (let index = 0; index < 6; index++) await world.gateway.place(traderA, body(`f-${index}`), null)
    await run(world, 300)
    await duty.anchorsIdle()
    expect(duty.anchorCounts).toEqual({ written: 0, failures: 1 })
    expect(world.errors.filter((error) => error.startsWith('audit anchor:'))).toHaveLength(1)
    expect(world.errors.every((error) => error.startsWith('audit anchor:'))).toBe(true)
    expect((await world.gateway.place(traderA, body('f-after'), null)).reply.kind).toBe('accepted')
  })

  test('anchorEveryMs 0 writes none', async () => {
    const { config } = await auditConfig({ sealEveryRecords: 4, anchorEveryMs: 0 })
    const { world, duty } = await auditWorld({ seed: 29, audit: config })
    for (let index = 0; index < 6; index++) await world.gateway.place(traderA, body(`z-${index}`), null)
    await run(world, 300)
    await world.gateway.stop()
    expect(duty.anchorCounts).toBeNull()
    expect(existsSync(join(world.dir, 'audit'))).toBe(false)
  })
})

describe('the anchors file at start (a single node)', () => {
  /** A world with seals and anchors, stopped cleanly after a few orders: its anchors file ends with the shutdown's. */
  async function stoppedWorld(seed: number): Promise<{ world: World; config: AuditConfig }> {
    const { config } = await auditConfig({ sealEveryRecords: 4 })
    const { world } = await auditWorld({ seed, audit: config })
    for (let index = 0; index < 4; index++) await world.gateway.place(traderA, body(`st-${index}`), null)
    await run(world, 200)
    await world.gateway.stop()
    return { world, config }
  }

  test('a record appended to the log while no gateway ran (no key needed: the chain extends) is found at the next start', async () => {
    const { world, config } = await stoppedWorld(31)
    const forged = Wal.open(join(world.dir, 'log'), { durability: 'none' })
    const [forgedLsn] = await forged.append([tamperRecord({ code: 'LOG_MISSING', lsn: 0, file: '-', offsetBytes: 0, detail: 'forged', detectedAtMs: 0, response: 'HALT' })])
    await forged.close()
    // The chain and every seal still verify: only the anchors file knows where the log ended.
    expect((await verifyLogDirectory(join(world.dir, 'log'))).ok).toBe(true)
    const { world: next, duty } = await auditWorld({ seed: 31, dir: world.dir, clock: world.clock, venue: world.venue, audit: config })
    expect(duty.verified).toBe(false)
    expect(duty.lastFinding).toMatchObject({ code: 'ANCHOR_MISMATCH', lsn: forgedLsn })
    expect(next.gateway.engine.state.tradingSwitch).toBe('halted')
  })

  test('a clean restart, and a restart after a run that crashed before its first anchor, find nothing', async () => {
    const { world, config } = await stoppedWorld(37)
    const { world: second, duty: secondDuty } = await auditWorld({ seed: 37, dir: world.dir, clock: world.clock, venue: world.venue, audit: config })
    expect(secondDuty.lastFinding).toBeNull()
    // The second run appends (its start's records) and dies before any seal: its start line says it ran.
    await second.gateway.place(traderA, body('st-crash'), null)
    await crashWorld(second)
    second.gateway.audit?.stop()
    const { duty: thirdDuty } = await auditWorld({ seed: 37, dir: world.dir, clock: world.clock, venue: world.venue, audit: config })
    expect(thirdDuty.lastFinding).toBeNull()
    expect(thirdDuty.verified).toBe(true)
    const lines = readFileSync(join(world.dir, 'audit', 'anchors.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { at?: string })
    // The first run started on an empty log: nothing to note. The second and third did.
    expect(lines.filter((line) => line.at === 'start')).toHaveLength(2)
    expect(lines.some((line) => line.at === 'shutdown')).toBe(true)
  })

  test('a run without anchors (no seal key, or anchorEveryMs 0) between two that anchor notes its start: the third finds nothing', async () => {
    const { world, config } = await stoppedWorld(43)
    // The second run seals nothing (live without audit.signingKeyFile; a local key is paper's and shadow's only).
    const { signingKeyFile: _key, ...unsealed } = config
    const { world: second, duty: secondDuty } = await auditWorld({ seed: 43, dir: world.dir, clock: world.clock, venue: world.venue, audit: unsealed })
    await second.gateway.place(traderA, body('unsealed-1'), null)
    await run(second, 200)
    await second.gateway.stop()
    expect(secondDuty.lastFinding).toBeNull()
    // The third with anchors off, the fourth with them on again.
    const { world: third } = await auditWorld({ seed: 43, dir: world.dir, clock: world.clock, venue: world.venue, audit: { ...config, anchorEveryMs: 0 } })
    await third.gateway.place(traderA, body('unanchored-1'), null)
    await run(third, 200)
    await third.gateway.stop()
    const { world: fourth, duty } = await auditWorld({ seed: 43, dir: world.dir, clock: world.clock, venue: world.venue, audit: config })
    expect(duty.lastFinding).toBeNull()
    expect(fourth.gateway.engine.state.tradingSwitch).not.toBe('halted')
    expect(second.errors.concat(third.errors)).toEqual([])
  })

  test('a venue health level that moves while the shutdown finishes is not recorded after the shutdown seal (no false tamper at the next start)', async () => {
    const { config } = await auditConfig({ sealEveryRecords: 1_000 })
    const venueHealth = { enabled: true, windowMs: 5_000, samplesMax: 100, samplesMin: 3, slowCallMs: 2_000, degradedScoreMax: 75, criticalScoreMax: 50, evaluateEveryMs: 250, overrideMsMax: 60_000 }
    const { world, duty } = await auditWorld({ seed: 41, audit: config, venueHealth })
    const place = world.venue.place.bind(world.venue)
    // Places answered retryable, slowly: the venue is recorded CRITICAL; the calls age out of the window later.
    world.venue.place = async () => {
      await new Promise<void>((resolve) => world.clock.schedule(3_000, resolve))
      return { kind: 'retryable', reason: 'venue_unavailable', retryAfterMs: 50 }
    }
    for (let index = 0; index < 3; index++) await world.gateway.place(traderA, body(`vh-${index}`), null)
    await run(world, 4_000)
    expect(world.gateway.engine.state.venueHealth.get('sim')?.level).toBe('CRITICAL')
    world.venue.place = place
    // The shutdown's last steps (its snapshot, the log's close) take time: the window slides on meanwhile.
    const sealAtShutdown = duty.sealAtShutdown.bind(duty)
    duty.sealAtShutdown = async () => {
      await sealAtShutdown()
      await world.clock.advanceAsync(venueHealth.windowMs + venueHealth.evaluateEveryMs)
      await world.gateway.engine.settled()
    }
    await world.gateway.stop()
    const lines = readFileSync(join(world.dir, 'audit', 'anchors.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { at?: string; sealRecordLsn?: number })
    const shutdown = lines.at(-1)
    expect(shutdown?.at).toBe('shutdown')
    // The shutdown seal is the log's last record.
    expect(openReadOnly(join(world.dir, 'log')).lastLsn).toBe(shutdown?.sealRecordLsn as number)
    const { duty: next } = await auditWorld({ seed: 41, dir: world.dir, clock: world.clock, venue: world.venue, audit: config, venueHealth })
    expect(next.lastFinding).toBeNull()
  })
})

describe('a seal that records landed behind is not the shutdown seal', () => {
  test('records appended while a seal signed (between the head it signs and its record) are sealed at a clean shutdown', async () => {
    const { config, publicKeyFile } = await auditConfig({ sealEveryRecords: 100_000, sealEveryMs: 86_400_000 })
    const { world, duty } = await auditWorld({ seed: 12, audit: config })
    await world.gateway.place(traderA, body('w-1'), null)
    await run(world, 300)
    // The seal reads the head and signs; the rejected order (one record, nothing for the executor) lands meanwhile.
    const sealing = duty.sealNow()
    const rejected = world.gateway.place(traderA, { ...body('w-2'), qty: '0' }, null)
    const [seal, answer] = await Promise.all([sealing, rejected])
    expect(answer.reply.kind).toBe('rejected')
    const wal = world.gateway.engine.wal
    expect(seal?.claims.lsn).toBeLessThan((seal?.recordLsn ?? 0) - 1)
    expect(wal.lastLsn).toBe(seal?.recordLsn ?? -1)
    await world.gateway.stop()
    const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey: JSON.parse(readFileSync(publicKeyFile, 'utf8')) })
    expect(report.ok).toBe(true)
    expect(report.seals.unsealedRecords).toBe(0)
  })
})
