/**
 * Every heartbeat verified every open stream's token again: a cache hit normally, but with the token cache off
 * (`tokenCacheEntriesMax: 0`) up to 1,024 signature checks every 5 s, all in one event-loop turn. A token's answer can
 * change only at its expiry (known from its exp, verified at open) or when the key set changes, so a stream's token
 * is verified again only then, and at most a bounded number per heartbeat. A key rotated out still ends its streams
 * within one reload interval (sse-token-expiry.test.ts holds the expiry).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Verifier } from '../../src/http/auth/index.ts'
import { keyToken, signingKey, tempDir, writeJwks, type SigningKey } from './auth/fixtures.ts'
import { auth, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader, type SseFrame } from './sse-client.ts'

const HEARTBEAT_MS = 100
const RELOAD_MS = 1_000

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string
let jwksPath: string
let oldKey: SigningKey
let newKey: SigningKey
let verifications = 0

beforeAll(async () => {
  oldKey = await signingKey('old-key')
  newKey = await signingKey('new-key')
  jwksPath = `${tempDir()}/jwks.json`
  writeJwks(jwksPath, [oldKey, newKey])
  t = await startTestGateway({
    config: { sse: { heartbeatMs: HEARTBEAT_MS } },
    verifier: { jwksFile: jwksPath, jwksReloadMs: RELOAD_MS, tokenCacheEntriesMax: 0, log: () => {} },
  })
  // Counts every verification the gateway asks for (the middleware's and the streams'): with the cache off, each one
  // is a signature check.
  const verifier: Verifier = t.http.services.verifier
  const verify = verifier.verify.bind(verifier)
  verifier.verify = (token) => {
    verifications++
    return verify(token)
  }
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

async function openStream(token: string): Promise<SseReader> {
  const res = await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(token) })
  expect(res.status).toBe(200)
  return new SseReader(res)
}

const heartbeats = (frames: SseFrame[]): number => frames.filter((frame) => frame.comment === 'heartbeat').length

test('an unchanged token is not verified again at each heartbeat; a key rotated out ends its streams within a reload interval', async () => {
  const oldToken = await keyToken(oldKey, { claims: { sub: 'alice', roles: ['trader'], accounts: ['demo-1'] } })
  const newToken = await keyToken(newKey, { claims: { sub: 'bob', roles: ['trader'], accounts: ['demo-1'] } })
  const streams = [await openStream(oldToken), await openStream(oldToken), await openStream(newToken)]
  const last = streams[2] as SseReader
  await last.until((frames) => heartbeats(frames) >= 2)
  // Each stream's token verified once more after its open (the keys may have changed in between), then left alone.
  const settled = verifications
  await last.until((frames) => heartbeats(frames) >= 8)
  expect(verifications - settled).toBe(0)
  // The old key leaves the file: the next reload changes the key set, and its streams end; the new key's does not.
  writeJwks(jwksPath, [newKey])
  const started = Date.now()
  for (const stream of streams.slice(0, 2)) {
    const frames = await stream.until((all) => all.some((frame) => frame.event === 'disconnect'), 4 * RELOAD_MS)
    expect(frames.find((frame) => frame.event === 'disconnect')?.data).toMatchObject({ reason: 'unauthenticated' })
  }
  expect(Date.now() - started).toBeLessThan(2 * RELOAD_MS)
  const seen = heartbeats(await last.until(() => true))
  await last.until((frames) => heartbeats(frames) >= seen + 3)
  expect(last.events().some((frame) => frame.event === 'disconnect')).toBe(false)
  for (const stream of streams) await stream.cancel()
})
