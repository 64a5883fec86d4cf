/**
 * The scrape token file (src/http/auth/scrape-token.ts): read at start (a bad file is a ConfigError naming
 * auth.scrapeTokenFile), trimmed, compared by SHA-256 digest (any length presented is a plain no), re-read once
 * reloadMs has passed (on a simulated clock), and refused while the file cannot be read.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../../src/config/index.ts'
import { openScrapeTokenFile, SCRAPE_TOKEN_FILE_BYTES_MAX } from '../../../src/http/auth/index.ts'

const TOKEN_A = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1'
const TOKEN_B = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-2'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tokenFile(content: string | Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-scrape-'))
  dirs.push(dir)
  const path = join(dir, 'scrape.token')
  writeFileSync(path, content)
  return path
}

function configIssue(run: () => unknown): { path: string; message: string } {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).issues[0]!
  }
  throw new Error('no ConfigError thrown')
}

describe('at start', () => {
  test('a missing, short, binary, multi-word or oversized file is a ConfigError naming auth.scrapeTokenFile', () => {
    const missing = join(tmpdir(), 'egress-no-such-dir', 'scrape.token')
    for (const path of [missing, tokenFile('too-short\n'), tokenFile(new Uint8Array([...Buffer.from('x'.repeat(40)), 0xff, 0xfe])), tokenFile(`${TOKEN_A} ${TOKEN_B}`), tokenFile('a'.repeat(SCRAPE_TOKEN_FILE_BYTES_MAX + 1))]) {
      const issue = configIssue(() => openScrapeTokenFile(path, { reloadMs: 1_000 }))
      expect(issue.path).toBe('auth.scrapeTokenFile')
    }
    // The message says what was expected, never what the file held.
    expect(configIssue(() => openScrapeTokenFile(tokenFile(`${TOKEN_A} ${TOKEN_B}`), { reloadMs: 1_000 })).message).not.toContain(TOKEN_A)
  })

  test('surrounding whitespace (a trailing newline) is not part of the token', () => {
    const token = openScrapeTokenFile(tokenFile(`  ${TOKEN_A}\n`), { reloadMs: 1_000 })
    expect(token.matches(TOKEN_A)).toBe(true)
    expect(token.matches(`${TOKEN_A}\n`)).toBe(false)
  })
})

test('any other string is a plain no, whatever its length (digests are compared, so no length mismatch throws)', () => {
  const token = openScrapeTokenFile(tokenFile(TOKEN_A), { reloadMs: 1_000 })
  for (const presented of ['', 'x', TOKEN_A.slice(0, -1), `${TOKEN_A}x`, TOKEN_B, 'y'.repeat(10_000)]) expect(token.matches(presented)).toBe(false)
  expect(token.matches(TOKEN_A)).toBe(true)
})

describe('reloads on a simulated clock', () => {
  test('a rotated file holds once reloadMs has passed, not before', () => {
    let nowMs = 0
    const path = tokenFile(TOKEN_A)
    const token = openScrapeTokenFile(path, { reloadMs: 30_000, nowMs: () => nowMs, log: () => {} })
    writeFileSync(path, TOKEN_B)
    nowMs = 29_999
    expect({ a: token.matches(TOKEN_A), b: token.matches(TOKEN_B) }).toEqual({ a: true, b: false })
    nowMs = 30_000
    expect({ a: token.matches(TOKEN_A), b: token.matches(TOKEN_B) }).toEqual({ a: false, b: true })
  })

  test('a file gone or broken refuses the token until it reads well again; logged once per run of failures', () => {
    let nowMs = 0
    const lines: string[] = []
    const path = tokenFile(TOKEN_A)
    const token = openScrapeTokenFile(path, { reloadMs: 1_000, nowMs: () => nowMs, log: (line) => lines.push(line) })
    rmSync(path)
    nowMs = 1_000
    expect(token.matches(TOKEN_A)).toBe(false)
    writeFileSync(path, 'short')
    nowMs = 2_000
    expect(token.matches(TOKEN_A)).toBe(false)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('auth.scrapeTokenFile')
    writeFileSync(path, TOKEN_A)
    nowMs = 3_000
    expect(token.matches(TOKEN_A)).toBe(true)
    expect(lines).toHaveLength(2)
  })
})

describe('a wall clock stepped back (no clock injected, as serve opens the file)', () => {
  test('a rotated token is still taken up once reloadMs has passed in real time, not once the wall clock caught up', async () => {
    const path = tokenFile(TOKEN_A)
    const realDateNow = Date.now
    let wallStepMs = 0
    Date.now = () => realDateNow() + wallStepMs
    try {
      const token = openScrapeTokenFile(path, { reloadMs: 20 })
      expect(token.matches(TOKEN_A)).toBe(true)
      // An NTP correction steps the host's clock an hour back; the operator rotates the token (the old one leaked).
      wallStepMs = -3_600_000
      writeFileSync(path, TOKEN_B)
      await Bun.sleep(40)
      expect(token.matches(TOKEN_A)).toBe(false)
      expect(token.matches(TOKEN_B)).toBe(true)
    } finally {
      Date.now = realDateNow
    }
  })
})
