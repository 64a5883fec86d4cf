/**
 * Config `storage` (the data dir's free-space floor, src/http/disk/): each field validated and named when wrong, an
 * environment override for the floor, and no floor unless one is set — a config without the section keeps its digest.
 */

import { describe, expect, test } from 'bun:test'
import { configDigest, loadConfig, parseConfig, storageConfigOf } from '../../src/config/index.ts'
import { messageOf } from './support.ts'

describe('config storage', () => {
  test('unset: no floor, read every 5 s, and nothing of it in the effective config', () => {
    const config = parseConfig({})
    expect(config.storage).toBeUndefined()
    expect(storageConfigOf(config)).toEqual({ freeBytesMin: 0, checkEveryMs: 5_000 })
    expect(configDigest(parseConfig({ storage: { freeBytesMin: 536_870_912 } }))).not.toBe(configDigest(config))
  })

  test('a floor and an interval in range are taken as given', () => {
    expect(parseConfig({ storage: { freeBytesMin: 536_870_912, checkEveryMs: 1_000 } }).storage).toEqual({ freeBytesMin: 536_870_912, checkEveryMs: 1_000 })
  })

  test.each([
    ['a negative floor', { freeBytesMin: -1 }, 'storage.freeBytesMin: expected an integer between 0 and 1125899906842624, got -1'],
    ['a fractional floor', { freeBytesMin: 1.5 }, 'storage.freeBytesMin: expected an integer between 0 and 1125899906842624, got 1.5'],
    ['a floor given as text', { freeBytesMin: '512MiB' }, 'storage.freeBytesMin: expected an integer between 0 and 1125899906842624, got "512MiB"'],
    ['an interval under 100 ms', { checkEveryMs: 50 }, 'storage.checkEveryMs: expected an integer between 100 and 60000, got 50'],
    ['a misspelt field', { freeByteMin: 1 }, 'storage.freeByteMin: unknown field'],
  ])('%s is refused naming the field', (_label, storage, message) => {
    expect(messageOf(() => parseConfig({ storage }))).toBe(message)
  })

  test('EGRESS_STORAGE_FREE_BYTES_MIN sets the floor, and a bad value names the variable', () => {
    expect(loadConfig({ env: { EGRESS_STORAGE_FREE_BYTES_MIN: '1073741824' } }).storage).toEqual({ freeBytesMin: 1_073_741_824, checkEveryMs: 5_000 })
    expect(messageOf(() => loadConfig({ env: { EGRESS_STORAGE_FREE_BYTES_MIN: '1G' } }))).toBe(
      'storage.freeBytesMin: expected an integer between 0 and 1125899906842624, got "1G" (from env EGRESS_STORAGE_FREE_BYTES_MIN)',
    )
  })
})
