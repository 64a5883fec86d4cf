/**
 * serve's start warns of valid settings an operator most likely did not mean (src/config/config-warnings.ts): one
 * snapshot kept with compaction "delete" leaves no way back if that file rots.
 */

import { expect, test } from 'bun:test'
import { configWarnings } from '../../src/config/config-warnings.ts'
import { parseConfig } from '../../src/config/index.ts'

test('keep 1 with compaction delete is named, with what to set instead', () => {
  const warnings = configWarnings(parseConfig({ snapshots: { keep: 1, compaction: 'delete' } }))
  expect(warnings).toHaveLength(1)
  expect(warnings[0]).toContain('snapshots.keep is 1 with snapshots.compaction "delete"')
  expect(warnings[0]).toContain('COMPACTED_NO_SNAPSHOT')
})

test('no warning for keep 2, for archive, for no compaction, or for the defaults', () => {
  expect(configWarnings(parseConfig({ snapshots: { keep: 2, compaction: 'delete' } }))).toEqual([])
  expect(configWarnings(parseConfig({ snapshots: { keep: 1, compaction: 'archive' } }))).toEqual([])
  expect(configWarnings(parseConfig({ snapshots: { keep: 1 } }))).toEqual([])
  expect(configWarnings(parseConfig({}))).toEqual([])
})

test('the HS256 warning comes through the same list', () => {
  const config = parseConfig({ mode: 'shadow', auth: { hs256Secret: 's'.repeat(40), jwksFile: '/dev/null' } })
  expect(configWarnings(config)).toEqual([expect.stringContaining('auth.hs256Secret (or EGRESS_HS256_SECRET) is set')])
})

test('a queue bound of 1 is named: an OCO list (two legs queued together) could never be placed', () => {
  const warnings = configWarnings(parseConfig({ kernel: { accountQueuedMax: 1, lane2DepthMax: 1 } }))
  expect(warnings).toEqual([expect.stringContaining('kernel.accountQueuedMax is 1: an OCO list'), expect.stringContaining('kernel.lane2DepthMax is 1')])
  expect(configWarnings(parseConfig({ kernel: { accountQueuedMax: 2, lane1DepthMax: 2, lane2DepthMax: 5 } }))).toEqual([])
})
