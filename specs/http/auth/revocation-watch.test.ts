/**
 * The verifier and revocations (src/http/auth/revocation-check.ts): a followed token (an SSE stream's) is due a check
 * once a revocation is recorded, and the check fails for a revoked one; tokens not revoked pass it again.
 */

import { expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import { emptyRevocations } from '../../../src/domain/revocations.ts'
import { createVerifier, mintHs256Token } from '../../../src/http/auth/index.ts'

const SECRET = 'revocation-watch-secret-revocation-watch-secret'

test("a followed token is rechecked when a revocation is recorded, and fails the check once it is revoked", async () => {
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 10 })
  const revocations = emptyRevocations()
  verifier.useRevocations(() => revocations)
  const mint = (sub: string) => mintHs256Token(SECRET, { sub, roles: ['trader'], accounts: ['a'], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
  const [revoked, kept] = [await mint('alice'), await mint('bob')]
  await verifier.verify(revoked)
  const watches = [verifier.watch(revoked), verifier.watch(kept)]
  for (const watch of watches) expect(await watch.check()).toBe(true)
  expect(watches.map((watch) => watch.state())).toEqual(['held', 'held'])

  const jti = decodeJwt(revoked).jti as string
  revocations.tokens.set(jti, { jti, untilMs: Date.now() + 60_000, atMs: Date.now(), principalId: 'ada', note: '', lsn: 9 })
  revocations.recorded += 1
  expect(watches.map((watch) => watch.state())).toEqual(['recheck', 'recheck'])
  expect(await watches[0]?.check()).toBe(false)
  expect(await watches[1]?.check()).toBe(true)
  expect(watches[1]?.state()).toBe('held')
  await expect(verifier.verify(revoked)).rejects.toMatchObject({ code: 'TOKEN_REVOKED', status: 401 })
  verifier.close()
})
