/**
 * Venue health scoring (src/runtime/venue-health-score.ts): deterministic, by the times it is given (a simulated clock
 * in the runtime specs). The window slides and is bounded, thin evidence is OK, and each kind of answer weighs as the
 * header says.
 */

import { describe, expect, test } from 'bun:test'
import { callResultOf, CallWindow, levelOf, type CallResult } from '../../src/runtime/venue-health-score.ts'

const THRESHOLDS = { windowMs: 10_000, samplesMax: 50, samplesMin: 4, slowCallMs: 1_000, degradedScoreMax: 75, criticalScoreMax: 40 }

function windowOf(results: CallResult[], options: { atMs?: number; latencyMs?: number } = {}): CallWindow {
  const window = new CallWindow(THRESHOLDS)
  for (const result of results) window.add({ atMs: options.atMs ?? 0, result, latencyMs: options.latencyMs ?? 10 })
  return window
}

describe('venue health scoring', () => {
  test('each answer weighs as documented: unknown 100, retryable 50, throttle 25, reject 10, slow 50', () => {
    expect(windowOf(['ok', 'ok', 'ok', 'ok']).score(1, null)).toMatchObject({ level: 'OK', score: 100 })
    expect(windowOf(['unknown', 'unknown', 'ok', 'ok']).score(1, null)).toMatchObject({ level: 'DEGRADED', score: 50 })
    expect(windowOf(['unknown', 'unknown', 'unknown', 'ok']).score(1, null)).toMatchObject({ level: 'CRITICAL', score: 25 })
    expect(windowOf(['retryable', 'retryable', 'retryable', 'retryable']).score(1, null)).toMatchObject({ level: 'DEGRADED', score: 50 })
    expect(windowOf(['throttled', 'throttled', 'throttled', 'throttled']).score(1, null)).toMatchObject({ level: 'DEGRADED', score: 75 })
    expect(windowOf(['rejected', 'rejected', 'rejected', 'rejected']).score(1, null)).toMatchObject({ level: 'OK', score: 90 })
    expect(windowOf(['ok', 'ok', 'ok', 'ok'], { latencyMs: 1_001 }).score(1, null)).toMatchObject({ level: 'DEGRADED', score: 50 })
    expect(windowOf(['unknown', 'unknown', 'unknown', 'unknown'], { latencyMs: 5_000 }).score(1, null)).toMatchObject({ level: 'CRITICAL', score: 0 })
  })

  test('fewer calls than samplesMin is no evidence: OK with a score of 100, however bad they were', () => {
    const score = windowOf(['unknown', 'unknown', 'unknown']).score(1, null)
    expect(score).toMatchObject({ level: 'OK', score: 100 })
    expect(score.detail).toContain('no evidence')
  })

  test('the window slides: calls answered windowMs ago or earlier no longer count', () => {
    const window = windowOf(['unknown', 'unknown', 'unknown', 'unknown'], { atMs: 1_000 })
    expect(window.score(10_999, null).level).toBe('CRITICAL')
    expect(window.score(11_000, null)).toMatchObject({ level: 'OK', counts: { calls: 0 } })
  })

  test('the window holds samplesMax calls at most, the newest', () => {
    const window = windowOf([...Array<CallResult>(THRESHOLDS.samplesMax).fill('unknown'), ...Array<CallResult>(THRESHOLDS.samplesMax).fill('ok')])
    expect(window.score(1, null)).toMatchObject({ level: 'OK', score: 100, counts: { calls: THRESHOLDS.samplesMax, unknown: 0 } })
  })

  test('a session that is not logged on is CRITICAL whatever the window says', () => {
    expect(windowOf(['ok', 'ok', 'ok', 'ok']).score(1, false)).toMatchObject({ level: 'CRITICAL', score: 0 })
    expect(windowOf([]).score(1, false).detail).toContain('session down')
  })

  test('a throttle is a retryable answer whose reason is rate_limited; thresholds are inclusive', () => {
    expect(callResultOf({ kind: 'retryable', reason: 'rate_limited', retryAfterMs: 5 })).toBe('throttled')
    expect(callResultOf({ kind: 'retryable', reason: 'venue_unavailable', retryAfterMs: 5 })).toBe('retryable')
    expect(callResultOf({ kind: 'unknown', reason: 'timeout' })).toBe('unknown')
    expect([levelOf(41, THRESHOLDS), levelOf(40, THRESHOLDS), levelOf(75, THRESHOLDS), levelOf(76, THRESHOLDS)]).toEqual(['DEGRADED', 'CRITICAL', 'DEGRADED', 'OK'])
  })
})
