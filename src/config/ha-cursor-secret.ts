/**
 * The secret an HA node seals `GET /v1/orders` cursors with (src/http/order-list/cursor.ts): derived from the
 * replication token, which both nodes hold, so a cursor handed out by either is still known after a failover.
 *
 * Derived with scrypt, not used as it is. Every cursor is an offline test of the key it is sealed with: a reader who
 * holds one checks a guess of the key by deriving the cipher key from it and opening the seal, without a request to
 * the gateway. Sealed under the token itself (the cipher key one SHA-256 of it), a cursor let any client that may read
 * orders search for the replication token on its own hardware at billions of guesses a second — the secret that
 * serves the whole log of every account (/replication/stream, /replication/snapshot) and confirms writes for the
 * standby (/replication/ack) — where before the only test of a guess was a request to a replication route. A token is
 * only required to be 16 characters. scrypt at N = 2^15, r = 8 (32 MiB and some tens of ms per guess) puts such a
 * search out of reach of any token that is not a word from a list; it runs once per process (parseHaFlags).
 */

import { scryptSync } from 'node:crypto'

/** The scrypt parameters, and the salt that keeps this derivation apart from any other use of the token. */
export const HA_CURSOR_SECRET_SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const
export const HA_CURSOR_SECRET_SALT = 'egress order-list cursor secret, from the replication token'
const SECRET_BYTES = 32

/** The cursor sealing secret of an HA pair whose replication token is `token` (the same on both nodes). */
export function haCursorSecret(token: string): string {
  return scryptSync(token, HA_CURSOR_SECRET_SALT, SECRET_BYTES, HA_CURSOR_SECRET_SCRYPT).toString('base64url')
}
