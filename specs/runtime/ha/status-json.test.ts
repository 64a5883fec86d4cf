/**
 * The reports an HA node keeps, as `/health` → `ha` shows them (src/runtime/ha/status-json.ts): only the keys change,
 * camelCase to snake_case at every depth (arrays of objects too); every value is the report's own. Each mapping is
 * held to a generic renaming of its report, so one that dropped, added, mistyped or swapped a value fails here.
 */

import { describe, expect, test } from 'bun:test'
import { divergenceJson, shadowJson, snapshotRecoveryJson, type DivergenceReport, type ShadowStats, type SnapshotRecoveryStatus } from '../../../src/runtime/ha/index.ts'

/** `value` with every object key, at every depth, renamed from camelCase to snake_case. */
function snakeKeyed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeyed)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), snakeKeyed(inner)]))
}

/** Distinct values everywhere, so a value put under another key is seen. */
const DIVERGENCE: DivergenceReport = {
  outcome: 'prefix_kept',
  commonLsn: 120,
  discardedFromLsn: 121,
  discardedToLsn: 160,
  discardedCount: 40,
  discardedEpochs: [3, 4],
  discardedEpochCount: 2,
  discardedExamples: [{ lsn: 121, epoch: 3 }, { lsn: 160, epoch: 4 }],
  movedTo: '/data/log.diverged-1700000000000',
  keptPrefixToLsn: 119,
  linkedSegments: 5,
  linkedBytes: 40_960,
  copiedSegments: 1,
  copiedBytes: 1_234,
  snapshotsKept: [100, 60],
  buildMs: 17,
  fallback: null,
  error: 'SET_ASIDE_FAILED: EIO',
}

const RECOVERED: SnapshotRecoveryStatus = {
  state: 'recovered',
  atMs: 1_700_000_000_123,
  leaderFirstLsn: 501,
  snapshotLsn: 540,
  snapshotDigest: 'ab'.repeat(32),
  previousLastLsn: 77,
  movedTo: '/data/log.compacted-1700000000000',
  lastLsn: 612,
}

const FAILED: SnapshotRecoveryStatus = { state: 'failed', atMs: 1_700_000_000_456, leaderFirstLsn: 502, code: 'SNAPSHOT_INVALID', error: 'digest differs' }

const SHADOW: ShadowStats = {
  decisions: 9,
  matches: 7,
  mismatches: 2,
  eventsWithoutCommand: 3,
  lastMismatches: [
    { lsn: 41, kind: 'place', difference: 'event 0: order.accepted on both, qty differs' },
    { lsn: 58, kind: null, difference: 'the command record did not decode' },
  ],
}

describe('the status reports under snake_case keys', () => {
  test('ha.last_divergence: every value of the report, its examples and lists too', () => {
    const json = divergenceJson(DIVERGENCE)
    expect(json).toEqual(snakeKeyed(DIVERGENCE) as typeof json)
    expect(Object.keys(json)).toHaveLength(Object.keys(DIVERGENCE).length)
    expect(json.discarded_examples[1]).toEqual({ lsn: 160, epoch: 4 })
  })

  test('ha.last_snapshot_recovery: recovered and failed', () => {
    for (const status of [RECOVERED, FAILED]) expect(snapshotRecoveryJson(status)).toEqual(snakeKeyed(status) as ReturnType<typeof snapshotRecoveryJson>)
    expect(snapshotRecoveryJson(RECOVERED)).toMatchObject({ state: 'recovered', snapshot_lsn: 540, previous_last_lsn: 77, last_lsn: 612 })
    expect(snapshotRecoveryJson(FAILED)).toMatchObject({ state: 'failed', leader_first_lsn: 502, code: 'SNAPSHOT_INVALID' })
  })

  test('ha.shadow: the counts and the last mismatches', () => {
    const json = shadowJson(SHADOW)
    expect(json).toEqual(snakeKeyed(SHADOW) as typeof json)
    expect(json.last_mismatches).toHaveLength(2)
    expect(json.events_without_command).toBe(3)
  })
})
