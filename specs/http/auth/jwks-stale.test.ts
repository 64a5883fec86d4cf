import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ApiError } from '../../../src/http/errors.ts'
import { JWKS_STALE_RELOADS_DEFAULT, openJwksFile, type JwksFile, type JwksReloadFailure, type Verifier } from '../../../src/http/auth/index.ts'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { hsToken, keyToken, signingKey, tempDir, verifier, writeJwks, SECRET, type SigningKey } from './fixtures.ts'

const closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

async function rejection(v: Verifier, token: string): Promise<string> {
  try {
    await v.verify(token)
  } catch (error) {
    if (!(error instanceof ApiError)) throw error
    expect([error.status, error.code]).toEqual([401, 'UNAUTHENTICATED'])
    return error.details.reason as string
  }
  throw new Error('token was accepted')
}

const edKey = await signingKey('ed-1')
const otherEdKey = await signingKey('ed-2')

/**
 * A JWKS verifier on a simulated clock, keys trusted 300 s after the last good read. The reload timer (60 s, real
 * time) never fires during a spec; reloads are called. Tokens expire 600 s after they are signed, past every jump.
 */
function staleWorld(keys: SigningKey[]) {
  const path = join(tempDir(), 'jwks.json')
  writeJwks(path, keys)
  const clock = { nowMs: Date.now() }
  const failures: JwksReloadFailure[] = []
  const logs: string[] = []
  const v = verifier({
    jwksFile: path, hs256Secret: SECRET, jwksReloadMs: 60_000, jwksStaleMaxMs: 300_000, nowMs: () => clock.nowMs,
    log: (line) => logs.push(line), onJwksReloadFailed: (failure) => failures.push(failure),
  })
  closers.push(() => v.close())
  return { path, clock, failures, logs, v }
}

describe('a JWKS file that stays broken', () => {
  test('keeps its last good keys for jwksStaleMaxMs after the last good read, then refuses them with jwks_stale', async () => {
    const { path, clock, failures, v } = staleWorld([edKey])
    const startMs = clock.nowMs
    writeFileSync(path, '{"keys": [')
    await v.reloadKeys()
    clock.nowMs = startMs + 299_999
    expect((await v.verify(await keyToken(edKey))).sub).toBe('alice')
    clock.nowMs = startMs + 300_000
    expect(await rejection(v, await keyToken(edKey, { claims: { jti: 'after-grace' } }))).toBe('jwks_stale')
    // HS256 does not depend on the file and keeps working.
    expect((await v.verify(await hsToken())).sub).toBe('alice')
    expect(failures).toEqual([{ code: 'JWKS_INVALID', path, message: `jwks file ${path}: not valid JSON`, keysKept: 1, lastGoodAtMs: startMs, staleAtMs: startMs + 300_000 }])
    expect(v.jwksStatus()).toMatchObject({ stale: true, keysTrusted: 1, reloadFailures: { JWKS_INVALID: 1, JWKS_UNREADABLE: 0 } })
  })

  test('a token verified and cached within the grace is not served from the cache past it', async () => {
    const { path, clock, v } = staleWorld([edKey])
    const token = await keyToken(edKey)
    expect((await v.verify(token)).sub).toBe('alice')
    rmSync(path)
    await v.reloadKeys()
    expect((await v.verify(token)).sub).toBe('alice')
    clock.nowMs += 300_000
    expect(await rejection(v, token)).toBe('jwks_stale')
  })

  test('each failed reload is reported, typed: a missing file is JWKS_UNREADABLE, a bad key JWKS_INVALID', async () => {
    const { path, clock, failures, logs, v } = staleWorld([edKey])
    rmSync(path)
    await v.reloadKeys()
    clock.nowMs += 301_000
    writeFileSync(path, JSON.stringify({ keys: [{ ...edKey.publicJwk, x: 'AAAA' }] }))
    await v.reloadKeys()
    expect(failures.map((failure) => failure.code)).toEqual(['JWKS_UNREADABLE', 'JWKS_INVALID'])
    expect(failures[0]?.message).toBe(`jwks file ${path}: cannot read (ENOENT)`)
    expect(logs[0]).toStartWith('jwks reload failed (JWKS_UNREADABLE), keeping 1 key(s) until')
    expect(logs[1]).toStartWith('jwks reload failed (JWKS_INVALID), key set stale since')
    expect(v.jwksStatus()?.reloadFailures).toEqual({ JWKS_UNREADABLE: 1, JWKS_INVALID: 1 })
  })

  test('a good reload after the grace trusts the file again, and the keys it holds now', async () => {
    const { path, clock, v } = staleWorld([edKey])
    writeFileSync(path, 'not json')
    await v.reloadKeys()
    clock.nowMs += 400_000
    expect(await rejection(v, await keyToken(edKey))).toBe('jwks_stale')
    writeJwks(path, [otherEdKey])
    await v.reloadKeys()
    expect((await v.verify(await keyToken(otherEdKey))).sub).toBe('alice')
    expect(await rejection(v, await keyToken(edKey, { claims: { jti: 'removed' } }))).toBe('unknown_key')
  })

  test('an untouched good file re-read within the grace never goes stale', async () => {
    const { clock, failures, v } = staleWorld([edKey])
    for (let step = 0; step < 5; step++) {
      clock.nowMs += 240_000
      await v.reloadKeys()
      expect((await v.verify(await keyToken(edKey, { expInSec: 3_600, claims: { jti: `step-${step}` } }))).sub).toBe('alice')
    }
    expect(failures).toEqual([])
  })

  test('without jwksStaleMaxMs the grace is JWKS_STALE_RELOADS_DEFAULT reload intervals', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeJwks(path, [edKey])
    const clock = { nowMs: Date.now() }
    const v = verifier({ jwksFile: path, jwksReloadMs: 60_000, nowMs: () => clock.nowMs })
    closers.push(() => v.close())
    expect(v.jwksStatus()?.staleAtMs).toBe(clock.nowMs + JWKS_STALE_RELOADS_DEFAULT * 60_000)
  })

  test('the grace must cover two reload intervals', () => {
    const path = join(tempDir(), 'jwks.json')
    writeJwks(path, [edKey])
    expect(() => openJwksFile(path, { reloadMs: 1_000, staleMaxMs: 1_999 })).toThrow('staleMaxMs must be ≥ 2 × reloadMs (2000), got 1999')
  })

  test('metrics: failed reloads by code, the stale flag and the last good read age', async () => {
    const { path, clock, v } = staleWorld([edKey])
    const metrics = new GatewayMetrics()
    metrics.followJwks(() => v.jwksStatus())
    rmSync(path)
    await v.reloadKeys()
    await v.reloadKeys()
    clock.nowMs += 307_000
    const text = metrics.render()
    expect(text).toContain('egress_jwks_reload_failures_total{code="JWKS_UNREADABLE"} 2')
    expect(text).toContain('egress_jwks_reload_failures_total{code="JWKS_INVALID"} 0')
    expect(text).toContain('egress_jwks_stale 1')
    expect(text).toContain('egress_jwks_last_good_read_age_seconds 307')
  })
})

describe('overlapping reloads', () => {
  test('a slow read that began before the file changed never replaces the key set a later read found', async () => {
    // The read under way captured the old file, then stalls; the rotation lands and a second reload is asked for.
    // Run side by side, the second read's new keys were replaced when the stalled read finished: a rotated-out key
    // trusted again until the next interval (or for good, if the file then broke).
    const path = join(tempDir(), 'jwks.json')
    writeJwks(path, [edKey])
    const gates: (() => void)[] = []
    const file: JwksFile = openJwksFile(path, {
      reloadMs: 60_000,
      staleMaxMs: 300_000,
      log: () => {},
      read: async (at) => {
        const text = readFileSync(at, 'utf8')
        await new Promise<void>((resolve) => gates.push(resolve))
        return text
      },
    })
    closers.push(() => file.close())
    writeJwks(path, [edKey, otherEdKey])
    const older = file.reload()
    await Bun.sleep(0)
    writeJwks(path, [otherEdKey])
    const newer = file.reload()
    // Release every read as it arrives, newest first.
    for (let round = 0; round < 10 && gates.length > 0; round++) {
      while (gates.length > 0) gates.pop()?.()
      await Bun.sleep(1)
    }
    await Promise.all([older, newer])
    expect(file.kids()).toEqual(['ed-2'])
  })

  test('reloads asked for while one waits share one queued read', async () => {
    const path = join(tempDir(), 'jwks.json')
    writeJwks(path, [edKey])
    let reads = 0
    const gates: (() => void)[] = []
    const file = openJwksFile(path, {
      reloadMs: 60_000,
      staleMaxMs: 300_000,
      read: async (at) => {
        reads++
        const text = readFileSync(at, 'utf8')
        await new Promise<void>((resolve) => gates.push(resolve))
        return text
      },
    })
    closers.push(() => file.close())
    const calls = [file.reload(), file.reload(), file.reload(), file.reload()]
    await Bun.sleep(1)
    expect(reads).toBe(1)
    gates.shift()?.()
    await Bun.sleep(1)
    expect(reads).toBe(2)
    gates.shift()?.()
    await Promise.all(calls)
    expect(reads).toBe(2)
  })
})

describe('a watched token (an SSE stream’s authority)', () => {
  test('is checked once, then held until its key set changes, goes stale, or the token expires', async () => {
    const { path, clock, v } = staleWorld([edKey, otherEdKey])
    const startMs = clock.nowMs
    const watch = v.watch(await keyToken(edKey, { expInSec: 600 }))
    // Not yet checked through this watch: the keys may have changed since the caller verified the token.
    expect(watch.state()).toBe('recheck')
    expect(await watch.check()).toBe(true)
    expect(watch.state()).toBe('held')
    // A reload that finds the same file changes nothing; one that finds other keys asks for a check.
    await v.reloadKeys()
    expect(watch.state()).toBe('held')
    writeJwks(path, [edKey])
    await v.reloadKeys()
    expect(watch.state()).toBe('recheck')
    expect(await watch.check()).toBe(true)
    // Going stale is a change of the key set: the check then fails (jwks_stale).
    writeFileSync(path, '{"keys": [')
    await v.reloadKeys()
    expect(watch.state()).toBe('held')
    clock.nowMs = startMs + 300_000
    expect(watch.state()).toBe('recheck')
    expect(await watch.check()).toBe(false)
  })

  test('whose key left the key set is expired at the reload, told without verifying it; a token of a kept key is rechecked', async () => {
    // Review: a rotated-out key's streams ended only at their turn among the re-checks spread over one more reload
    // interval after the reload (up to two intervals from the rotation).
    const { path, v } = staleWorld([edKey, otherEdKey])
    const gone = v.watch(await keyToken(edKey, { expInSec: 600 }))
    const kept = v.watch(await keyToken(otherEdKey, { expInSec: 600 }))
    const hs = v.watch(await hsToken())
    for (const watch of [gone, kept, hs]) expect(await watch.check()).toBe(true)
    writeJwks(path, [otherEdKey])
    await v.reloadKeys()
    expect(gone.state()).toBe('expired')
    expect(kept.state()).toBe('recheck')
    expect(hs.state()).toBe('recheck')
    expect(await kept.check()).toBe(true)
    expect(kept.state()).toBe('held')
  })

  test('is expired from its exp plus the clock tolerance on, told without verifying it', async () => {
    const { clock, v } = staleWorld([edKey])
    const token = await keyToken(edKey, { expInSec: 60 })
    const watch = v.watch(token)
    expect(await watch.check()).toBe(true)
    const expMs = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp * 1000
    clock.nowMs = expMs + 5_000 - 1
    expect(watch.state()).toBe('held')
    clock.nowMs = expMs + 5_000
    expect(watch.state()).toBe('expired')
    // The verifier agrees from the same instant.
    expect(await rejection(v, token)).toBe('expired')
  })
})
