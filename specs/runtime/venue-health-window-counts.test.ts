/**
 * The window's running counts (src/runtime/venue-health-score.ts CallWindow): kept as calls enter and leave instead of
 * recounted at each score, they must equal a count over exactly the calls the window holds, through overflow past
 * samplesMax, expiry at the window's edge, slow calls and every kind of answer; and `level` (the monitor's O(1) path)
 * must agree with `score`. A reference recount over the samples fed is the oracle; a failing seed is printed by fast-check.
 */

import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import type { HealthLevel } from '../../src/domain/gate.ts'
import { CallWindow, levelOf, type CallResult, type CallSample } from '../../src/runtime/venue-health-score.ts'

const THRESHOLDS = { windowMs: 1_000, samplesMax: 12, samplesMin: 3, slowCallMs: 100, degradedScoreMax: 75, criticalScoreMax: 40 }
const WEIGHTS: Record<CallResult | 'slow', number> = { ok: 0, rejected: 10, retryable: 50, throttled: 25, unknown: 100, slow: 50 }
const RESULTS: CallResult[] = ['ok', 'rejected', 'retryable', 'throttled', 'unknown']

/** What the window should hold at `nowMs`: the newest samplesMax fed, less those answered windowMs ago or earlier. */
function reference(fed: CallSample[], nowMs: number, sessionUp: boolean | null): { level: HealthLevel; score: number; counts: Record<string, number> } {
  const kept = fed.slice(-THRESHOLDS.samplesMax).filter((sample) => sample.atMs > nowMs - THRESHOLDS.windowMs)
  const counts = { calls: 0, ok: 0, rejected: 0, retryable: 0, throttled: 0, unknown: 0, slow: 0 }
  let penalty = 0
  for (const sample of kept) {
    counts.calls++
    counts[sample.result]++
    penalty += WEIGHTS[sample.result]
    if (sample.latencyMs > THRESHOLDS.slowCallMs) {
      counts.slow++
      penalty += WEIGHTS.slow
    }
  }
  if (sessionUp === false) return { level: 'CRITICAL', score: 0, counts }
  if (counts.calls < THRESHOLDS.samplesMin) return { level: 'OK', score: 100, counts }
  const score = Math.max(0, 100 - Math.floor(penalty / counts.calls))
  return { level: levelOf(score, THRESHOLDS), score, counts }
}

const step = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), advanceMs: fc.integer({ min: 0, max: 400 }), result: fc.constantFrom(...RESULTS), latencyMs: fc.integer({ min: 0, max: 200 }) }),
  fc.record({ kind: fc.constant('score' as const), advanceMs: fc.integer({ min: 0, max: 1_200 }), sessionUp: fc.constantFrom(true, false, null) }),
)

describe('venue health window: running counts', () => {
  test('equal a recount over the calls the window holds, and level agrees with score', () => {
    // size 'max': fast-check's default size ('small') generates at most about 10 elements, whatever maxLength says.
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80, size: 'max' }), (steps) => {
        const window = new CallWindow(THRESHOLDS)
        const fed: CallSample[] = []
        let nowMs = 0
        for (const next of steps) {
          nowMs += next.advanceMs
          if (next.kind === 'add') {
            const sample = { atMs: nowMs, result: next.result, latencyMs: next.latencyMs }
            fed.push(sample)
            window.add(sample)
            continue
          }
          const expected = reference(fed, nowMs, next.sessionUp)
          expect(window.level(nowMs, next.sessionUp)).toEqual({ level: expected.level, score: expected.score })
          expect(window.score(nowMs, next.sessionUp)).toMatchObject(expected)
        }
      }),
      { numRuns: 400, seed: 4301 },
    )
  })
})
