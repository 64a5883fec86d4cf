/**
 * The scrape token (config `auth.scrapeTokenFile`): a static bearer secret kept in a file, what a Prometheus scraper
 * sends from its `credentials_file`. Protected service routes (service-routes.ts) admit it to /metrics and to /health's
 * details, and to nothing else: it is not a JWT, names no one, and holds no role.
 *
 * - The file holds the token alone; surrounding whitespace (a trailing newline) is ignored. The token is at least
 *   SCRAPE_TOKEN_CHARS_MIN characters a bearer header can carry, the file at most SCRAPE_TOKEN_FILE_BYTES_MAX bytes.
 * - At start the file must be good: otherwise a ConfigError naming `auth.scrapeTokenFile` (exit 1).
 * - It is re-read when a check comes `reloadMs` or more after the last read (no timer), so a rotated file holds within
 *   one interval, without a restart. A re-read that fails (the file gone, unreadable, or not a token) refuses the
 *   scrape token until a good read: the file is the only authority, and deleting it revokes the token. Failures are
 *   logged once per run of them.
 * - Compared in constant time: the presented and the expected token are both hashed (SHA-256) and the digests compared
 *   with timingSafeEqual, so neither the token's content nor its length shows in how long a refusal takes.
 */

import { matchesSecretDigest, secretDigest } from './secret-digest.ts'
import { readFailureOf, readFileBounded } from '../../config/bounded-read.ts'
import { ConfigError } from '../../config/config-error.ts'

export const SCRAPE_TOKEN_FIELD = 'auth.scrapeTokenFile'
/** As long as the HS256 secret's minimum: a token a scraper's config file holds can be long. */
export const SCRAPE_TOKEN_CHARS_MIN = 32
export const SCRAPE_TOKEN_FILE_BYTES_MAX = 4_096
/** What `Authorization: Bearer` can carry (middleware.ts reads the same characters). */
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]+$/

export interface ScrapeTokenOptions {
  /** How long a read is trusted before the next check reads the file again. */
  reloadMs: number
  /**
   * The clock reloadMs is measured on: performance.now by default (monotonic), so a wall clock stepped back does not
   * keep a rotated token's predecessor taken for the step's length.
   */
  nowMs?: () => number
  /** Where reload failures go; stderr by default. */
  log?: (line: string) => void
}

export interface ScrapeToken {
  /** Whether `presented` is the token the file holds now (re-read first when due). Constant time in `presented`. */
  matches(presented: string): boolean
}

/** Reads the file now (ConfigError naming the field if it is not good) and follows it from then on. */
export function openScrapeTokenFile(path: string, options: ScrapeTokenOptions): ScrapeToken {
  const nowMs = options.nowMs ?? (() => performance.now())
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const first = readScrapeToken(path)
  if ('error' in first) throw new ConfigError([{ path: SCRAPE_TOKEN_FIELD, message: first.error }])
  let expected: Buffer | null = first.digest
  let readAtMs = nowMs()
  let failing = false

  function current(): Buffer | null {
    const now = nowMs()
    if (now - readAtMs < options.reloadMs) return expected
    readAtMs = now
    const read = readScrapeToken(path)
    if ('error' in read) {
      if (!failing) log(`scrape token reload failed (${SCRAPE_TOKEN_FIELD}): ${read.error}; the scrape token is refused until the file reads well again`)
      failing = true
      expected = null
      return null
    }
    if (failing) log(`scrape token read again (${SCRAPE_TOKEN_FIELD}); the scrape token is admitted again`)
    failing = false
    expected = read.digest
    return expected
  }

  return {
    matches(presented) {
      const digest = current()
      return digest !== null && matchesSecretDigest(presented, digest)
    },
  }
}

/** The token's SHA-256, or why the file does not hold a usable token (never the file's content). */
function readScrapeToken(path: string): { digest: Buffer } | { error: string } {
  let text: string
  try {
    // No pipes: it is read again while requests wait, and a FIFO would block the event loop.
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileBounded(path, SCRAPE_TOKEN_FILE_BYTES_MAX, { allowPipes: false }))
  } catch (error) {
    const failure = error instanceof TypeError ? 'not UTF-8' : readFailureOf(error)
    return { error: `cannot read ${path} (${failure}): expected a file of at most ${SCRAPE_TOKEN_FILE_BYTES_MAX} bytes holding the token` }
  }
  const token = text.trim()
  if (token.length < SCRAPE_TOKEN_CHARS_MIN || !TOKEN_PATTERN.test(token)) {
    return { error: `${path}: expected one token of at least ${SCRAPE_TOKEN_CHARS_MIN} characters [A-Za-z0-9._~+/=-] (surrounding whitespace is ignored), got ${token.length} characters${TOKEN_PATTERN.test(token) || token.length === 0 ? '' : ' with others among them'}` }
  }
  return { digest: secretDigest(token) }
}

