/**
 * Files the operator names are read with a bound: a JWKS or key path pointing at the wrong thing (a log, /dev/zero)
 * failed only once the process had read it all into memory (`/dev/zero`: never). Each is now refused past 1 MiB with
 * its usual error and a message saying why; a config file keeps its own 4 MiB bound.
 */

import { expect, test } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileTooLargeError, NotAFileError, readFileBounded } from '../../src/config/bounded-read.ts'
import { openJwksFile } from '../../src/http/auth/index.ts'
import { KEY_FILE_BYTES_MAX, readKeyJson } from '../../src/audit/keys.ts'

const dir = mkdtempSync(join(tmpdir(), 'egress-bounded-'))

test('a file at the bound is read whole; one byte more is FileTooLargeError; a missing file keeps its errno', () => {
  const path = join(dir, 'at-bound')
  writeFileSync(path, 'x'.repeat(1000))
  expect(readFileBounded(path, 1000).byteLength).toBe(1000)
  expect(() => readFileBounded(path, 999)).toThrow(FileTooLargeError)
  expect(() => readFileBounded(join(dir, 'missing'), 10)).toThrow(expect.objectContaining({ code: 'ENOENT' }))
})

test('/dev/zero as a JWKS file or a key file is refused at once, naming the bound', () => {
  expect(() => openJwksFile('/dev/zero', { reloadMs: 60_000, staleMaxMs: 300_000 })).toThrow(`jwks file /dev/zero: cannot read (larger than ${1024 * 1024} bytes)`)
  expect(() => readKeyJson('/dev/zero')).toThrow(`/dev/zero: cannot read (larger than ${KEY_FILE_BYTES_MAX} bytes)`)
})

test('a JWKS reload of a file grown past the bound fails as unreadable and keeps the last good keys', async () => {
  const path = join(dir, 'jwks.json')
  const { publicKey } = generateKeyPairSync('ed25519')
  writeFileSync(path, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'ed-1' }] }))
  const logs: string[] = []
  const jwks = openJwksFile(path, { reloadMs: 60_000, staleMaxMs: 300_000, log: (line) => logs.push(line) })
  try {
    writeFileSync(path, ' '.repeat(1024 * 1024 + 1))
    expect(await jwks.reload()).toBe(false)
    expect(jwks.status().reloadFailures).toEqual({ JWKS_UNREADABLE: 1, JWKS_INVALID: 0 })
    expect(logs.join('\n')).toContain('larger than')
  } finally {
    jwks.close()
  }
})

/**
 * A FIFO where a JWKS, key or secret file is expected is refused at once. Opening one blocks until a writer comes: a
 * FIFO given as auth.jwksFile hung `egress serve` without a word before it printed anything, and a reload (synchronous)
 * would block the event loop. A config file may still be a pipe (`--config <(…)`), which is read to its end.
 */
test('a FIFO as a JWKS or key file is refused at once, as a pipe, not waited on', () => {
  const fifo = join(dir, 'keys.fifo')
  expect(Bun.spawnSync(['mkfifo', fifo]).exitCode).toBe(0)
  expect(() => openJwksFile(fifo, { reloadMs: 60_000, staleMaxMs: 300_000 })).toThrow(`jwks file ${fifo}: cannot read (a pipe or socket, not a file)`)
  expect(() => readKeyJson(fifo)).toThrow(`${fifo}: cannot read (a pipe or socket, not a file)`)
  expect(() => readFileBounded(fifo, 10, { allowPipes: false })).toThrow(NotAFileError)
})
