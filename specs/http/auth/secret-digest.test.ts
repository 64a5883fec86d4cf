/**
 * Shared secrets (the replication token, the scrape token) are compared by SHA-256 digest in constant time
 * (src/http/auth/secret-digest.ts): any presented length is compared without a length check first (a raw
 * timingSafeEqual throws on unequal lengths, so a raw compare must check them, and that check leaks the length).
 */

import { describe, expect, test } from 'bun:test'
import { matchesSecretDigest, secretDigest } from '../../../src/http/auth/secret-digest.ts'

describe('secret digests', () => {
  const expected = secretDigest('Bearer a-shared-replication-token-of-some-length')

  test('the same secret matches; any other, of any length (empty, shorter, longer, one character off), does not', () => {
    expect(matchesSecretDigest('Bearer a-shared-replication-token-of-some-length', expected)).toBe(true)
    for (const other of ['', 'Bearer', 'Bearer a-shared-replication-token-of-some-lengtH', 'Bearer a-shared-replication-token-of-some-length ', 'x'.repeat(10_000)]) {
      expect(matchesSecretDigest(other, expected)).toBe(false)
    }
  })

  test('the digest is a 32-byte SHA-256, so every compare is of equal lengths', () => {
    expect(expected.byteLength).toBe(32)
    expect(secretDigest('').byteLength).toBe(32)
  })
})
