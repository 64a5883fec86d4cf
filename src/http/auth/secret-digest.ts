/**
 * Comparing a presented shared secret (a bearer token the nodes or a scraper share) with the expected one in constant
 * time: both are hashed (SHA-256) and the digests compared with timingSafeEqual, so neither the secret's content nor
 * its length shows in how long a refusal takes. A raw compare needs equal lengths first, and that check leaks the
 * length.
 */

import { createHash, timingSafeEqual } from 'node:crypto'

export function secretDigest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/** Whether `presented` equals the secret whose digest (secretDigest) is `expected`, in time independent of both. */
export function matchesSecretDigest(presented: string, expected: Buffer): boolean {
  return timingSafeEqual(secretDigest(presented), expected)
}
