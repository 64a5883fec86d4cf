import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../src/cli/index.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { canonicalConfigJson, configDigest, defaultConfig, kernelParamsOverrides, parseConfig } from '../../src/config/index.ts'
import { defaultKernelParams } from '../../src/domain/kernel-config.ts'
import { recordingIo } from '../cli/io.ts'
import { messageOf } from './support.ts'

describe('config kernel section', () => {
  test('absent, it keeps the digest of configs written before it and overrides nothing', () => {
    const config = defaultConfig()
    expect(canonicalConfigJson(config)).not.toContain('kernel')
    expect(kernelParamsOverrides(config.kernel)).toEqual({})
    // An empty section is a section: it is part of the config the operator wrote, so it enters the digest.
    expect(configDigest(parseConfig({ kernel: {} }))).not.toBe(configDigest(config))
    expect(configDigest(parseConfig({ kernel: { reconcileGraceMs: 1_000 } }))).not.toBe(configDigest(parseConfig({ kernel: { reconcileGraceMs: 2_000 } })))
  })

  test('only the fields it sets override the kernel defaults', () => {
    const config = parseConfig({ kernel: { reconcileGraceMs: 750, reconcileRecheckMs: 200, callsPerInstrumentMax: 1, terminalOrdersKeptMax: 500 } })
    expect(kernelParamsOverrides(config.kernel)).toEqual({ reconcileGraceMs: 750, reconcileRecheckMs: 200, callsPerInstrumentMax: 1, terminalOrdersKeptMax: 500 })
    const every = { ...defaultKernelParams() }
    expect(kernelParamsOverrides(parseConfig({ kernel: every }).kernel)).toEqual(every)
  })

  test('bad values are refused naming the field and the range', () => {
    expect(messageOf(() => parseConfig({ kernel: { reconcileGraceMs: 0 } }))).toContain('kernel.reconcileGraceMs: expected an integer between 100 and 3600000, got 0')
    expect(messageOf(() => parseConfig({ kernel: { callsPerInstrumentMax: 2_000 } }))).toContain('kernel.callsPerInstrumentMax: expected an integer between 1 and 1024, got 2000')
    expect(messageOf(() => parseConfig({ kernel: { terminalOrdersKeptMax: 0 } }))).toContain('kernel.terminalOrdersKeptMax: expected an integer between 1 and 10000000, got 0')
    expect(messageOf(() => parseConfig({ kernel: { takerFeeBps: 2.5 } }))).toContain('kernel.takerFeeBps: expected an integer between 0 and 10000, got 2.5')
    expect(messageOf(() => parseConfig({ kernel: { lane1DepthMax: '10' } }))).toContain('kernel.lane1DepthMax: expected an integer between 1 and 1000000, got "10"')
    expect(messageOf(() => parseConfig({ kernel: { reconcileGraceMS: 1_000 } }))).toContain('kernel.reconcileGraceMS: unknown field')
    expect(messageOf(() => parseConfig({ kernel: 5 }))).toContain('kernel:')
  })

  test('the cap on ended orders held: 1,000,000 by default (or the count kept, when larger and the cap unset), set within its range, never below the count kept', () => {
    expect(defaultKernelParams().terminalOrdersHeldMax).toBe(1_000_000)
    expect(kernelParamsOverrides(parseConfig({ kernel: { terminalOrdersHeldMax: 50_000 } }).kernel)).toEqual({ terminalOrdersHeldMax: 50_000 })
    expect(messageOf(() => parseConfig({ kernel: { terminalOrdersHeldMax: 999 } }))).toContain('kernel.terminalOrdersHeldMax: expected an integer between 1000 and 100000000, got 999')
    expect(messageOf(() => parseConfig({ kernel: { terminalOrdersHeldMax: 5_000 } }))).toContain('kernel.terminalOrdersHeldMax: must be ≥ kernel.terminalOrdersKeptMax (10000)')
    expect(messageOf(() => parseConfig({ kernel: { terminalOrdersKeptMax: 2_000_000, terminalOrdersHeldMax: 1_500_000 } }))).toContain('kernel.terminalOrdersHeldMax: must be ≥ kernel.terminalOrdersKeptMax (2000000)')
    // The cap on idempotency keys held: an explicit one within twice the ended orders kept is refused (their keys stay
    // held, and a cap they fill would refuse every new order for good); unset, it follows a larger count.
    expect(messageOf(() => parseConfig({ kernel: { idempotencyKeysHeldMax: 10_000 } }))).toContain('kernel.idempotencyKeysHeldMax: must be ≥ 2 × kernel.terminalOrdersKeptMax (20000)')
    expect(messageOf(() => parseConfig({ kernel: { terminalOrdersKeptMax: 3_000, idempotencyKeysHeldMax: 5_999 } }))).toContain('(6000)')
    expect(kernelParamsOverrides({ terminalOrdersKeptMax: 3_000_000, terminalOrdersHeldMax: 3_000_000 }).idempotencyKeysHeldMax).toBe(6_000_000)
    // A config from before the cap, keeping more than the default cap, still loads: unset, the cap follows the count.
    expect(kernelParamsOverrides(parseConfig({ kernel: { terminalOrdersKeptMax: 2_000_000 } }).kernel)).toEqual({ terminalOrdersKeptMax: 2_000_000, terminalOrdersHeldMax: 2_000_000 })
    expect(kernelParamsOverrides(parseConfig({ kernel: { terminalOrdersKeptMax: 500_000 } }).kernel)).toEqual({ terminalOrdersKeptMax: 500_000 })
    expect(kernelParamsOverrides(parseConfig({ kernel: { terminalOrdersKeptMax: 20_000, terminalOrdersHeldMax: 20_000 } }).kernel)).toEqual({ terminalOrdersKeptMax: 20_000, terminalOrdersHeldMax: 20_000 })
  })

  test('egress serve with a bad kernel value exits 1 with one line naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-config-'))
    try {
      const path = join(dir, 'egress.json')
      writeFileSync(path, JSON.stringify({ dataDir: dir, kernel: { reconcileRecheckMs: -1 } }))
      const io = recordingIo({})
      expect(await runCli(['serve', '--config', path], io)).toBe(1)
      expect(io.stderr).toHaveLength(1)
      expect(io.stderr[0]).toContain('kernel.reconcileRecheckMs: expected an integer between 10 and 3600000, got -1')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('the serve gateway decides with the configured parameters; a restart without the section records the defaults again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-serve-'))
    const clock = new StoppableClock()
    try {
      const tuned = parseConfig({ dataDir: dir, wal: { durability: 'none' }, kernel: { reconcileGraceMs: 800, reconcileRecheckMs: 150, callsPerInstrumentMax: 4 } })
      const first = await startServeGateway(tuned, { clock, buildCommit: 'spec', onError: () => {} })
      expect(first.gateway.engine.state.config?.digest).toBe(configDigest(tuned))
      expect(first.gateway.engine.state.config?.params).toEqual({ ...defaultKernelParams(), reconcileGraceMs: 800, reconcileRecheckMs: 150, callsPerInstrumentMax: 4 })
      await first.stop()
      const plain = parseConfig({ dataDir: dir, wal: { durability: 'none' } })
      const second = await startServeGateway(plain, { clock, buildCommit: 'spec', onError: () => {} })
      expect(second.gateway.engine.state.config?.digest).toBe(configDigest(plain))
      expect(second.gateway.engine.state.config?.params).toEqual(defaultKernelParams())
      await second.stop()
    } finally {
      clock.cancelAll()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
