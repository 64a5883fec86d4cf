/**
 * Config `collector` (collector pacing, src/runtime/collector-pacing.ts): each field validated and named when wrong,
 * and the defaults unless set (a full collection after 1 s without a record once the heap grew 25 %; young-generation
 * pacing off, 500 records when on) — a config without the section keeps its digest.
 */

import { describe, expect, test } from 'bun:test'
import { collectorConfigOf, configDigest, parseConfig } from '../../src/config/index.ts'
import { messageOf } from './support.ts'

describe('config collector', () => {
  test('unset: the defaults, and nothing of it in the effective config', () => {
    const config = parseConfig({})
    expect(config.collector).toBeUndefined()
    expect(collectorConfigOf(config)).toEqual({ edenEveryMs: 0, edenAfterRecords: 500, fullWhenIdleMs: 1_000, fullAfterGrowthPct: 25 })
    expect(configDigest(parseConfig({ collector: { edenEveryMs: 50 } }))).not.toBe(configDigest(config))
  })

  test('off (0) and values in range are taken as given; a field left out keeps its default', () => {
    const defaults = { edenEveryMs: 0, edenAfterRecords: 500, fullWhenIdleMs: 1_000, fullAfterGrowthPct: 25 }
    expect(parseConfig({ collector: { edenEveryMs: 50 } }).collector).toEqual({ ...defaults, edenEveryMs: 50 })
    expect(parseConfig({ collector: { edenEveryMs: 10, edenAfterRecords: 1 } }).collector).toEqual({ ...defaults, edenEveryMs: 10, edenAfterRecords: 1 })
    expect(parseConfig({ collector: { edenAfterRecords: 2_000 } }).collector).toEqual({ ...defaults, edenAfterRecords: 2_000 })
    expect(parseConfig({ collector: { fullWhenIdleMs: 0 } }).collector).toEqual({ ...defaults, fullWhenIdleMs: 0 })
    expect(parseConfig({ collector: { fullWhenIdleMs: 100, fullAfterGrowthPct: 1_000 } }).collector).toEqual({ ...defaults, fullWhenIdleMs: 100, fullAfterGrowthPct: 1_000 })
  })

  test.each([
    ['a cadence under 10 ms (a collection more often than the loop can spare)', { edenEveryMs: 5 }, 'collector.edenEveryMs: expected 0 (off) or at least 10, got 5'],
    ['a negative cadence', { edenEveryMs: -1 }, 'collector.edenEveryMs: expected an integer between 0 and 60000, got -1'],
    ['a cadence over a minute', { edenEveryMs: 60_001 }, 'collector.edenEveryMs: expected an integer between 0 and 60000, got 60001'],
    ['a fractional cadence', { edenEveryMs: 12.5 }, 'collector.edenEveryMs: expected an integer between 0 and 60000, got 12.5'],
    ['no records needed', { edenAfterRecords: 0 }, 'collector.edenAfterRecords: expected an integer between 1 and 1000000000, got 0'],
    ['records given as text', { edenAfterRecords: '500' }, 'collector.edenAfterRecords: expected an integer between 1 and 1000000000, got "500"'],
    ['a lull under 100 ms', { fullWhenIdleMs: 99 }, 'collector.fullWhenIdleMs: expected 0 (off) or at least 100, got 99'],
    ['a lull over an hour', { fullWhenIdleMs: 3_600_001 }, 'collector.fullWhenIdleMs: expected an integer between 0 and 3600000, got 3600001'],
    ['no growth needed', { fullAfterGrowthPct: 0 }, 'collector.fullAfterGrowthPct: expected an integer between 1 and 1000, got 0'],
    ['a misspelt field', { edenEvery: 50 }, 'collector.edenEvery: unknown field'],
  ])('%s is refused naming the field', (_label, collector, message) => {
    expect(messageOf(() => parseConfig({ collector }))).toBe(message)
  })
})
