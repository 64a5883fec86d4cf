import { afterEach, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { ApiError } from '../../../src/http/errors.ts'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import type { Verifier } from '../../../src/http/auth/index.ts'
import { keyToken, signingKey, tempDir, verifier, writeJwks } from './fixtures.ts'

/**
 * The JWKS grace (jwksStaleMaxMs) is a duration since the last good read of the file: measured on the monotonic clock,
 * not the wall clock, which an NTP step, an operator or a resumed VM moves at once. serve's verifier has no injected
 * clock (verifierOptionsFromConfig): here the wall clock (Date.now) is stepped as a host's would be.
 */

const realDateNow = Date.now
let wallStepMs = 0
const closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
  Date.now = realDateNow
  wallStepMs = 0
})

const edKey = await signingKey('ed-step')

/** A verifier as serve makes it (no nowMs), on a wall clock the spec can step: keys trusted 300 s after a good read. */
function steppedWorld() {
  Date.now = () => realDateNow() + wallStepMs
  const path = join(tempDir(), 'jwks.json')
  writeJwks(path, [edKey])
  const v = verifier({ jwksFile: path, jwksReloadMs: 60_000, jwksStaleMaxMs: 300_000 })
  closers.push(() => v.close())
  return { path, v }
}

async function reasonOf(v: Verifier, token: string): Promise<string> {
  try {
    await v.verify(token)
  } catch (error) {
    if (!(error instanceof ApiError)) throw error
    return error.details.reason as string
  }
  return 'accepted'
}

describe('the JWKS grace and a wall clock stepped', () => {
  test('forward past the grace: a key set read well moments ago is not stale, its tokens verify, its streams are kept', async () => {
    const { v } = steppedWorld()
    const before = await keyToken(edKey)
    expect((await v.verify(before)).sub).toBe('alice')
    const watch = v.watch(before)
    expect(await watch.check()).toBe(true)
    // The host's clock jumps an hour ahead (a VM resumed, an NTP step): no time passed for the file.
    wallStepMs = 3_600_000
    expect(v.jwksStatus()?.stale).toBe(false)
    expect(await reasonOf(v, await keyToken(edKey, { claims: { jti: 'after-step' } }))).toBe('accepted')
    // A stream of a token still valid by the stepped clock is not ended for a key set gone stale.
    const after = await keyToken(edKey, { expInSec: 7_200 })
    expect((await v.verify(after)).sub).toBe('alice')
    expect(await v.watch(after).check()).toBe(true)
  })

  test('back: a file that stays unreadable is still refused once the grace has passed in real time', async () => {
    const { path, v } = steppedWorld()
    rmSync(path)
    await v.reloadKeys()
    // Stepped back an hour right after the failed read: the wall clock now needs an hour more to reach the grace's end.
    wallStepMs = -3_600_000
    expect(v.jwksStatus()?.stale).toBe(false)
    // 300 s of real time later: the monotonic clock (performance.now) has moved on that much.
    const performanceNow = performance.now.bind(performance)
    const realPerformanceNow = performance.now
    performance.now = () => performanceNow() + 300_000
    try {
      expect(v.jwksStatus()?.stale).toBe(true)
      expect(await reasonOf(v, await keyToken(edKey))).toBe('jwks_stale')
    } finally {
      performance.now = realPerformanceNow
    }
  })

  test('back: the last good read age (/metrics) grows with the real time past it, as the stale flag beside it', async () => {
    const { path, v } = steppedWorld()
    const metrics = new GatewayMetrics()
    metrics.followJwks(() => v.jwksStatus())
    rmSync(path)
    await v.reloadKeys()
    wallStepMs = -3_600_000
    const realPerformanceNow = performance.now
    const performanceNow = performance.now.bind(performance)
    performance.now = () => performanceNow() + 307_000
    try {
      const text = metrics.render()
      expect(text).toContain('egress_jwks_stale 1')
      // Before: the wall clock's age, 0 for the hour the clock was stepped back while the key set was stale.
      expect(text).toMatch(/egress_jwks_last_good_read_age_seconds 30[78]/)
    } finally {
      performance.now = realPerformanceNow
    }
  })
})
