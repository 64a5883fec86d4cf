/**
 * Config `executor` (the executor's picks, src/runtime/lane3-share.ts): `lane3Every`, Lane3's share of the picks, an
 * integer in 1..1000, named when wrong; unset, the executor's default (8), and a config without the section keeps its
 * digest. The range is the executor's own (EXECUTOR_LANE3_EVERY_MAX), which checks it again.
 */

import { describe, expect, test } from 'bun:test'
import { configDigest, parseConfig } from '../../src/config/index.ts'
import { EXECUTOR_LANE3_EVERY_MAX } from '../../src/runtime/lane3-share.ts'
import { messageOf } from './support.ts'

describe('config executor', () => {
  test('unset: nothing of it in the effective config, and the digest as before; set: taken as given', () => {
    const config = parseConfig({})
    expect(config.executor).toBeUndefined()
    expect(parseConfig({ executor: { lane3Every: 1 } }).executor).toEqual({ lane3Every: 1 })
    expect(parseConfig({ executor: { lane3Every: EXECUTOR_LANE3_EVERY_MAX } }).executor).toEqual({ lane3Every: EXECUTOR_LANE3_EVERY_MAX })
    expect(configDigest(parseConfig({ executor: { lane3Every: 4 } }))).not.toBe(configDigest(config))
  })

  test.each([
    ['no share (0)', { lane3Every: 0 }, 'executor.lane3Every: expected an integer between 1 and 1000, got 0'],
    ['a share past the executor’s bound', { lane3Every: EXECUTOR_LANE3_EVERY_MAX + 1 }, 'executor.lane3Every: expected an integer between 1 and 1000, got 1001'],
    ['a fraction', { lane3Every: 2.5 }, 'executor.lane3Every: expected an integer between 1 and 1000, got 2.5'],
    ['text', { lane3Every: '8' }, 'executor.lane3Every: expected an integer between 1 and 1000, got "8"'],
    ['a misspelt field', { lane3every: 8 }, 'executor.lane3every: unknown field'],
  ])('%s is refused naming the field', (_label, executor, message) => {
    expect(messageOf(() => parseConfig({ executor }))).toBe(message)
  })
})
