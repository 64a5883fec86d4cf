/**
 * Config `autoStop` (src/config/auto-stop.ts): absent, no breaker and the digest a config without it had; a breaker given
 * as `{}` takes every default; each field validated and named when wrong, and `egress serve` exits 1 naming it.
 */

import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../src/cli/index.ts'
import { canonicalConfigJson, parseConfig } from '../../src/config/index.ts'
import { recordingIo } from '../cli/io.ts'
import { messageOf } from './support.ts'

describe('config autoStop', () => {
  test('unset: no breaker, and nothing of it in the canonical config (the digest stays)', () => {
    const config = parseConfig({})
    expect(config.autoStop).toBeUndefined()
    expect(canonicalConfigJson(config)).not.toContain('autoStop')
    expect(canonicalConfigJson(parseConfig({ autoStop: {} }))).toContain('"autoStop":{"evaluateEveryMs":1000}')
  })

  test('a breaker given as {} takes every default; the others stay off', () => {
    expect(parseConfig({ autoStop: { venueRejects: {}, unknownOrders: {}, orderRate: {}, ackLatency: {} } }).autoStop).toEqual({
      evaluateEveryMs: 1_000,
      venueRejects: { windowMs: 60_000, samplesMin: 20, rejectPctMax: 50, action: 'HALT' },
      unknownOrders: { ordersMax: 10, dwellMs: 30_000, action: 'HALT' },
      orderRate: { windowMs: 10_000, ordersMax: 1_000, scope: 'account', action: 'HALT' },
      ackLatency: { windowMs: 60_000, samplesMin: 100, p99MsMax: 2_000, action: 'HALT' },
    })
    expect(parseConfig({ autoStop: { orderRate: { ordersMax: 50, action: 'CANCEL_ONLY', scope: 'all' } } }).autoStop).toEqual({
      evaluateEveryMs: 1_000,
      orderRate: { windowMs: 10_000, ordersMax: 50, scope: 'all', action: 'CANCEL_ONLY' },
    })
  })

  test.each([
    ['a share of 100 %', { venueRejects: { rejectPctMax: 100 } }, 'autoStop.venueRejects.rejectPctMax: expected an integer between 0 and 99, got 100'],
    ['no samples', { venueRejects: { samplesMin: 0 } }, 'autoStop.venueRejects.samplesMin: expected an integer between 1 and 1000000, got 0'],
    ['a window under a second', { ackLatency: { windowMs: 999 } }, 'autoStop.ackLatency.windowMs: expected an integer between 1000 and 3600000, got 999'],
    ['a fractional bound', { ackLatency: { p99MsMax: 1.5 } }, 'autoStop.ackLatency.p99MsMax: expected an integer between 1 and 600000, got 1.5'],
    ['a negative count', { unknownOrders: { ordersMax: -1 } }, 'autoStop.unknownOrders.ordersMax: expected an integer between 0 and 1000000, got -1'],
    ['a rate of 0', { orderRate: { ordersMax: 0 } }, 'autoStop.orderRate.ordersMax: expected an integer between 1 and 10000000, got 0'],
    ['an unknown scope', { orderRate: { scope: 'bot' } }, 'autoStop.orderRate.scope: expected "account" or "all", got "bot"'],
    ['RESUME as an action', { unknownOrders: { action: 'RESUME' } }, 'autoStop.unknownOrders.action: expected "HALT" or "CANCEL_ONLY", got "RESUME"'],
    ['a lower-case action', { unknownOrders: { action: 'halt' } }, 'autoStop.unknownOrders.action: expected "HALT" or "CANCEL_ONLY", got "halt"'],
    ['a misspelt breaker', { venueReject: {} }, 'autoStop.venueReject: unknown field'],
    ['a misspelt field', { orderRate: { orderMax: 5 } }, 'autoStop.orderRate.orderMax: unknown field'],
    ['an interval under 100 ms', { evaluateEveryMs: 10 }, 'autoStop.evaluateEveryMs: expected an integer between 100 and 600000, got 10'],
  ])('%s is refused naming the field', (_label, autoStop, message) => {
    expect(messageOf(() => parseConfig({ autoStop }))).toBe(message)
  })

  test('egress serve with a bad autoStop exits 1 naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-auto-stop-config-'))
    try {
      const path = join(dir, 'egress.json')
      writeFileSync(path, JSON.stringify({ dataDir: join(dir, 'data'), autoStop: { venueRejects: { rejectPctMax: 150 } } }))
      const io = recordingIo({ EGRESS_CONFIG: path })
      expect(await runCli(['serve'], io)).toBe(1)
      expect(io.stderr.join('\n')).toContain('autoStop.venueRejects.rejectPctMax: expected an integer between 0 and 99, got 150')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
