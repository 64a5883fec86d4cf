import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { verifyLogDirectory } from '../../src/audit/index.ts'
import { SELF_CHECK_SLICE_RECORDS } from '../../src/audit/setup.ts'
import { parseConfig, type AuditConfig } from '../../src/config/index.ts'
import { removeDir, run, startWorld, tempDataDir, traderA, type World } from './harness.ts'

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

const body = (id: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000', client_order_id: id })

describe('audit duties of the running gateway', () => {
  test('the head is sealed every N records and at clean shutdown, and the log verifies with its seals', async () => {
    const { config, publicKeyFile } = await auditConfig()
    const world = await startWorld({ seed: 11, audit: config })
    dirs.push(world.dir)
    for (let index = 0; index < 10; index++) await world.gateway.place(traderA, body(`s-${index}`), null)
    await run(world, 300)
    await world.gateway.stop()
    const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey: JSON.parse(readFileSync(publicKeyFile, 'utf8')) })
    expect(report.ok).toBe(true)
    expect(report.seals.checked).toBeGreaterThanOrEqual(2)
    expect(report.seals.unsealedRecords).toBe(0) // the shutdown seal covers everything before it
    expect(world.errors).toEqual([])
  })

  test('an edited record found by the self-check halts new orders, is logged, and leaves a forensics bundle', async () => {
    const forensics = tempDataDir()
    dirs.push(forensics)
    const { config } = await auditConfig({ tamperResponse: 'HALT', forensicsDir: forensics })
    const world = await startWorld({ seed: 12, audit: config })
    worlds.push(world)
    dirs.push(world.dir)
    await world.gateway.place(traderA, body('t-1'), null)
    await run(world, 100)
    // Edit one payload byte of a record the self-check has not yet covered (the last but one) and fix up its CRC,
    // so only the chain can tell.
    const target = world.gateway.engine.wal.lastLsn - 1
    const segment = join(world.dir, 'log', readdirSync(join(world.dir, 'log')).filter((name) => name.endsWith('.seg')).sort()[0] as string)
    const bytes = readFileSync(segment)
    const view = new DataView(bytes.buffer, bytes.byteOffset)
    let offset = 64
    while (view.getUint32(offset + 40, true) !== target) offset += view.getUint32(offset, true) + 8
    bytes[offset + 60] = (bytes[offset + 60] as number) ^ 0x01
    view.setUint32(offset + 4, Bun.hash.crc32(bytes.subarray(offset + 8, offset + 8 + view.getUint32(offset, true))), true)
    writeFileSync(segment, bytes)
    await world.gateway.audit?.selfCheck()
    expect(world.gateway.audit?.verified).toBe(false)
    expect(world.gateway.audit?.lastFinding?.code).toBe('CHAIN_BREAK')
    expect(world.gateway.engine.state.tradingSwitch).toBe('halted')
    const refused = await world.gateway.place(traderA, body('t-2'), null)
    expect(refused.reply.kind).toBe('rejected')
    expect(readdirSync(forensics).length).toBe(1)
    expect(world.errors).toEqual([])
  })

  test('a self-check over a long stretch goes slice by slice, with event-loop turns between, to the head it started from', async () => {
    const { config } = await auditConfig({ sealEveryRecords: 100 })
    const world = await startWorld({ seed: 13, audit: config })
    worlds.push(world)
    dirs.push(world.dir)
    for (let index = 0; index < 80; index++) await world.gateway.place(traderA, body(`l-${index}`), null)
    await run(world, 300)
    const duty = world.gateway.audit
    const check = duty === null || duty === undefined ? undefined : (duty as unknown as { options: { setup: { selfCheck: { check(): Promise<unknown>; verifiedThroughLsn: number } } } }).options.setup.selfCheck
    if (check === undefined) throw new Error('no audit duty')
    const fromLsn = check.verifiedThroughLsn
    const headLsn = world.gateway.engine.wal.lastLsn
    expect(headLsn - fromLsn).toBeGreaterThan(2 * SELF_CHECK_SLICE_RECORDS)
    const original = check.check.bind(check)
    let slices = 0
    let turnsBetween = 0
    let turnsSeen = 0
    const ticker = setInterval(() => void turnsSeen++, 0)
    check.check = async () => {
      if (slices > 0 && turnsSeen > 0) turnsBetween++
      turnsSeen = 0
      slices++
      return original()
    }
    try {
      expect(await duty?.selfCheck()).toBeNull()
    } finally {
      clearInterval(ticker)
    }
    expect(slices).toBe(Math.ceil((headLsn - fromLsn) / SELF_CHECK_SLICE_RECORDS))
    expect(turnsBetween).toBeGreaterThan(0)
    expect(check.verifiedThroughLsn).toBeGreaterThanOrEqual(headLsn)
    expect(duty?.verified).toBe(true)
    expect(world.errors).toEqual([])
  })
})

describe('the periodic self-check', () => {
  test('paces itself: its slices hold at most about a quarter of the event loop while it runs', async () => {
    const { config } = await auditConfig({ sealEveryRecords: 1_000, selfCheckEveryMs: 1_000 })
    const world = await startWorld({ seed: 14, audit: config })
    worlds.push(world)
    dirs.push(world.dir)
    for (let index = 0; index < 150; index++) await world.gateway.place(traderA, body(`p-${index}`), null)
    await run(world, 300)
    const duty = world.gateway.audit
    const check = duty === null || duty === undefined ? undefined : (duty as unknown as { options: { setup: { selfCheck: { check(): Promise<unknown>; verifiedThroughLsn: number } } } }).options.setup.selfCheck
    if (check === undefined) throw new Error('no audit duty')
    const headLsn = world.gateway.engine.wal.lastLsn
    expect(headLsn - check.verifiedThroughLsn).toBeGreaterThan(3 * SELF_CHECK_SLICE_RECORDS)
    const original = check.check.bind(check)
    let busyMs = 0
    let firstStartMs = Number.NaN
    let lastEndMs = Number.NaN
    check.check = async () => {
      const startMs = performance.now()
      if (Number.isNaN(firstStartMs)) firstStartMs = startMs
      // A slice made slow enough to measure: the pacing must answer with a proportionate wait.
      while (performance.now() < startMs + 8) {
        // busy
      }
      const result = await original()
      lastEndMs = performance.now()
      busyMs += lastEndMs - startMs
      return result
    }
    await run(world, 1_100) // the periodic check is due
    for (let waited = 0; check.verifiedThroughLsn < headLsn && waited < 200; waited++) await Bun.sleep(10)
    expect(check.verifiedThroughLsn).toBeGreaterThanOrEqual(headLsn)
    // Timers never fire early, so a busy machine only lowers the share.
    expect(busyMs / (lastEndMs - firstStartMs)).toBeLessThan(0.35)
    expect(duty?.verified).toBe(true)
  })
})
