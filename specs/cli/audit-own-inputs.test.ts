/**
 * `egress audit verify DIR` of a data directory checks what the directory holds of its own: the anchors its gateway
 * appended (audit/anchors.jsonl and the rotated anchors.jsonl.1) and, with no key given, its local seal public key;
 * the summary names them. Before, neither was read unless given (--anchors, --public-key): a data directory whose log
 * was cut short below its own anchors verified CLEAN, and verify without a key option was a usage error even where the
 * local key lay beside the log.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PUBLIC_KEY_FILE } from '../../src/audit/index.ts'
import { removeTempDirs, sealedLog, segmentFiles, tempDir, testKeys, type TestKeys } from '../audit/support.ts'
import { cli } from './io.ts'

let keys: TestKeys
let plainDataDir: string
let anchorLine: string

beforeAll(async () => {
  keys = await testKeys()
  plainDataDir = tempDir('egress-cli-own-')
  await sealedLog(join(plainDataDir, 'log'), keys, { records: 60, sealEvery: 20 })
  const keyPath = join(tempDir('egress-cli-own-key-'), 'seal.public.jwk.json')
  writeFileSync(keyPath, JSON.stringify(keys.publicJwk))
  const anchored = await cli(['audit', 'anchor', plainDataDir, '--public-key', keyPath])
  expect(anchored.code).toBe(0)
  anchorLine = anchored.out
})
afterAll(removeTempDirs)

/** A copy of the data directory with `files` in its audit/ (name → content). */
function dataDirWith(files: Record<string, string>): { dir: string; audit: string } {
  const dir = tempDir('egress-cli-own-copy-')
  cpSync(plainDataDir, dir, { recursive: true })
  const audit = join(dir, 'audit')
  mkdirSync(audit, { mode: 0o700 })
  for (const [name, content] of Object.entries(files)) writeFileSync(join(audit, name), content)
  return { dir, audit }
}

const beyondEnd = `${JSON.stringify({ lsn: 500, chainHead: 'a'.repeat(64), at: 'start' })}\n`

describe('egress audit verify DIR: the data directory\'s own anchors', () => {
  test('a log cut short below its own anchors file is ANCHOR_BEYOND_END (exit 65), naming the file read', async () => {
    const { dir, audit } = dataDirWith({ 'anchors.jsonl': `${anchorLine}\n${beyondEnd}` })
    const result = await cli(['audit', 'verify', dir, '--no-signatures'])
    expect(result.code).toBe(65)
    expect(result.out).toContain(`  anchors   1 checked, 0 before the log's start (from ${join(audit, 'anchors.jsonl')}, the data directory's own)`)
    expect(result.out).toContain('ANCHOR_BEYOND_END')
  })

  test('the rotated anchors.jsonl.1 is read too, before the current file', async () => {
    const wrong = `${JSON.stringify({ ...JSON.parse(anchorLine), seal: undefined, chainHead: '0'.repeat(64) })}\n`
    const { dir, audit } = dataDirWith({ 'anchors.jsonl.1': wrong, 'anchors.jsonl': `${anchorLine}\n` })
    const result = await cli(['audit', 'verify', dir, '--no-signatures'])
    expect(result.code).toBe(65)
    expect(result.out).toContain(`(from ${join(audit, 'anchors.jsonl.1')}, ${join(audit, 'anchors.jsonl')}, the data directory's own)`)
    expect(result.out).toContain('ANCHOR_MISMATCH')
  })

  test('--no-anchors skips them, and says so; --anchors FILE is read instead of them', async () => {
    const { dir } = dataDirWith({ 'anchors.jsonl': beyondEnd })
    const skipped = await cli(['audit', 'verify', dir, '--no-signatures', '--no-anchors'])
    expect(skipped.code).toBe(0)
    expect(skipped.out).toContain('  anchors   not checked (--no-anchors)')
    const given = join(tempDir('egress-cli-own-given-'), 'elsewhere.jsonl')
    writeFileSync(given, `${anchorLine}\n`)
    const instead = await cli(['audit', 'verify', dir, '--no-signatures', '--anchors', given])
    expect(instead.code).toBe(0)
    expect(instead.out).toContain(`  anchors   1 checked, 0 before the log's start (from ${given})`)
    expect((await cli(['audit', 'verify', dir, '--no-signatures', '--anchors', given, '--no-anchors'])).code).toBe(2)
  })

  test('its own anchors all before the log\'s start (compacted past) are said, not ANCHORS_ALL_BEFORE_LOG; given with --anchors they are', async () => {
    const dataDir = tempDir('egress-cli-own-compacted-')
    await sealedLog(join(dataDir, 'log'), keys, { records: 200, sealEvery: 50, segmentBytesMax: 8 * 1024 })
    // The first two segments gone, as compaction leaves them: an anchor of LSN 1 lies before the log's start.
    for (const file of segmentFiles(join(dataDir, 'log')).slice(0, 2)) rmSync(file)
    mkdirSync(join(dataDir, 'audit'))
    const anchorsPath = join(dataDir, 'audit', 'anchors.jsonl')
    writeFileSync(anchorsPath, `${JSON.stringify({ lsn: 1, chainHead: 'b'.repeat(64) })}\n`)
    const own = await cli(['audit', 'verify', dataDir, '--no-signatures'])
    expect(own.code).toBe(0)
    expect(own.out).toContain(`0 checked, 1 before the log's start (from ${anchorsPath}, the data directory's own; all before the log's start: none vouches for it)`)
    const given = await cli(['audit', 'verify', dataDir, '--no-signatures', '--anchors', anchorsPath])
    expect(given.code).toBe(65)
    expect(given.out).toContain('ANCHORS_ALL_BEFORE_LOG')
  })

  test('a data directory without an anchors file says it has none', async () => {
    const result = await cli(['audit', 'verify', plainDataDir, '--no-signatures'])
    expect(result.code).toBe(0)
    expect(result.out).toContain(`  anchors   none: no ${join(plainDataDir, 'audit', 'anchors.jsonl')} (give --anchors FILE to check some)`)
  })

  test('a torn last line of its own file (a copy mid-append) is skipped and said; the same file given with --anchors is refused', async () => {
    const torn = anchorLine.slice(0, 100)
    const { dir, audit } = dataDirWith({ 'anchors.jsonl': `${anchorLine}\n${torn}` })
    const result = await cli(['audit', 'verify', dir, '--no-signatures'])
    expect(result.code).toBe(0)
    expect(result.out).toContain(`1 checked, 0 before the log's start (from ${join(audit, 'anchors.jsonl')}, the data directory's own; a torn last line skipped (${join(audit, 'anchors.jsonl')} line 2))`)
    const strict = await cli(['audit', 'verify', dir, '--no-signatures', '--anchors', join(audit, 'anchors.jsonl')])
    expect(strict.code).toBe(1)
    expect(strict.err).toContain('ANCHORS_INVALID')
  })
})

describe('egress audit verify DIR: the data directory\'s local seal key', () => {
  test('with no key option, its audit/ public key is used and named; signatures are verified', async () => {
    const { dir, audit } = dataDirWith({ [PUBLIC_KEY_FILE]: JSON.stringify(keys.publicJwk) })
    const result = await cli(['audit', 'verify', dir])
    expect(result.code).toBe(0)
    expect(result.out).toContain('seals     4 checked, signatures verified')
    expect(result.out).toContain(`  key       ${join(audit, PUBLIC_KEY_FILE)} (the data directory's local seal key, as none was given`)
    const json = await cli(['audit', 'verify', dir, '--json'])
    expect(JSON.parse(json.out).sources).toEqual({ publicKeyFile: join(audit, PUBLIC_KEY_FILE), anchorsFiles: [], anchorsTornLastLines: [] })
    // Another key there: the seals do not verify with it.
    const other = dataDirWith({ [PUBLIC_KEY_FILE]: JSON.stringify((await testKeys()).publicJwk) })
    const wrong = await cli(['audit', 'verify', other.dir])
    expect(wrong.code).toBe(65)
    expect(wrong.out).toContain('SEAL_SIGNATURE_INVALID')
  })

  test('"audit anchor DIR" uses it too, saying so on stderr; stdout is the anchor line alone', async () => {
    const { dir, audit } = dataDirWith({ [PUBLIC_KEY_FILE]: JSON.stringify(keys.publicJwk) })
    const result = await cli(['audit', 'anchor', dir])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.out)).toEqual(JSON.parse(anchorLine))
    expect(result.err).toContain(`key       ${join(audit, PUBLIC_KEY_FILE)}`)
  })

  test('a key option given wins over it; none given and none there is still a usage error', async () => {
    const { dir } = dataDirWith({ [PUBLIC_KEY_FILE]: '{"not": "a key"}' })
    const unsigned = await cli(['audit', 'verify', dir, '--no-signatures'])
    expect(unsigned.code).toBe(0)
    expect(unsigned.out).not.toContain('  key ')
    const missing = await cli(['audit', 'verify', plainDataDir])
    expect(missing.code).toBe(2)
    expect(missing.err).toContain(`DIR holds no audit/${PUBLIC_KEY_FILE} to use instead`)
  })
})
