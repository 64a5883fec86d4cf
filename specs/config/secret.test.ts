import { describe, expect, test } from 'bun:test'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, CURSOR_SECRET_FILE, hs256SecretPath, parseConfig, resolveCursorSecret, resolveHs256Secret } from '../../src/config/index.ts'
import { nodeIo } from '../../wal/index.ts'

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'egress-data-'))
}

describe('the local HS256 secret', () => {
  test('is generated on first use into the data dir with mode 0600, then reused', () => {
    const config = parseConfig({ dataDir: dataDir() })
    const first = resolveHs256Secret(config)
    const path = hs256SecretPath(config.dataDir)
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path, 'utf8').trim()).toBe(first)
    expect(resolveHs256Secret(config)).toBe(first)
  })

  test('generated into a data dir that does not exist yet: every directory it creates is fsynced in its parent', () => {
    // The secret is the first thing `egress serve` writes (before the data dir's lock): its directories must be
    // findable after a power cut, or the next start generates another secret and every token minted is refused.
    const root = dataDir()
    const config = parseConfig({ dataDir: join(root, 'srv', 'data') })
    const synced: string[] = []
    const fsyncDirectory = nodeIo.fsyncDirectory
    nodeIo.fsyncDirectory = (path) => {
      synced.push(path)
      fsyncDirectory(path)
    }
    try {
      resolveHs256Secret(config)
    } finally {
      nodeIo.fsyncDirectory = fsyncDirectory
    }
    // Before the fix: only auth/ itself (the secret's own entry), never root, srv/ or srv/data/ for the entries made in them.
    expect(synced).toEqual([root, join(root, 'srv'), join(root, 'srv', 'data')])
  })

  test('a configured secret is used as-is and nothing is written', () => {
    const config = parseConfig({ dataDir: dataDir(), auth: { hs256Secret: 'x'.repeat(32) } })
    expect(resolveHs256Secret(config)).toBe('x'.repeat(32))
    expect(() => statSync(hs256SecretPath(config.dataDir))).toThrow()
  })

  test('a secret file readable by others is refused', () => {
    const config = parseConfig({ dataDir: dataDir() })
    resolveHs256Secret(config)
    chmodSync(hs256SecretPath(config.dataDir), 0o644)
    expect(() => resolveHs256Secret(config)).toThrow(/mode 644/)
  })

  /**
   * Whatever sits at the secret's path is read with a bound and as strict UTF-8, and a failure is a ConfigError on
   * auth.hs256Secret naming the file. Before: a directory there failed as node's bare `EISDIR: illegal operation on a
   * directory, read` (no file, no field); a 400 MB file was read whole and became the secret; invalid bytes were read
   * as U+FFFD, a different key than the file's.
   */
  test('a directory, an oversized file or bytes that are not UTF-8 at its path: a ConfigError naming the file', () => {
    const cases: Array<[string, (path: string) => void, string]> = [
      ['a directory', (path) => mkdirSync(path, { mode: 0o700 }), 'cannot read (EISDIR)'],
      ['too large', (path) => writeFileSync(path, 'x'.repeat(4097), { mode: 0o600 }), 'cannot read (larger than 4096 bytes)'],
      ['not UTF-8', (path) => writeFileSync(path, Buffer.concat([Buffer.from('x'.repeat(40)), Buffer.from([0xff])]), { mode: 0o600 }), 'is not UTF-8 text'],
    ]
    for (const [, make, why] of cases) {
      const config = parseConfig({ dataDir: dataDir() })
      const path = hs256SecretPath(config.dataDir)
      mkdirSync(join(path, '..'), { mode: 0o700 })
      make(path)
      let thrown: unknown
      try {
        resolveHs256Secret(config)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(ConfigError)
      expect((thrown as ConfigError).issues).toEqual([{ path: 'auth.hs256Secret', message: `secret file ${path} ${why}; delete it to generate a new one` }])
    }
  })

  test('is refused when HS256 is disabled', () => {
    const config = parseConfig({ mode: 'live', auth: { jwksFile: '/k.json' } })
    expect(() => resolveHs256Secret(config)).toThrow(ConfigError)
  })
})

describe('the order-list cursor secret', () => {
  test('is generated on first use into <dataDir>/auth/cursor.secret with mode 0600, then reused; readable by others it is refused', () => {
    const dir = dataDir()
    const first = resolveCursorSecret(dir)
    const path = join(dir, CURSOR_SECRET_FILE)
    expect(path).toBe(join(dir, 'auth', 'cursor.secret'))
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(resolveCursorSecret(dir)).toBe(first)
    expect(first).not.toBe(resolveHs256Secret(parseConfig({ dataDir: dir })))
    chmodSync(path, 0o644)
    expect(() => resolveCursorSecret(dir)).toThrow(/dataDir: secret file .*cursor.secret .*\(mode 644\)/)
  })
})

describe('a secret that cannot be created', () => {
  // A data dir on a read-only, unwritable or full file system gave a raw `EROFS: read-only file system, mkdir …` with no
  // field named. Here the data dir's auth/ is a link to nowhere (not a directory), which needs no mount or other user.
  test('is a config error naming the field, the file and the errno', () => {
    const dir = dataDir()
    symlinkSync(join(dir, 'missing', 'deeper'), join(dir, 'auth'))
    expect(() => resolveHs256Secret(parseConfig({ dataDir: dir }))).toThrow(ConfigError)
    expect(() => resolveHs256Secret(parseConfig({ dataDir: dir }))).toThrow(/^auth\.hs256Secret: secret file .*\/auth\/hs256\.secret cannot be created \(NOT_A_DIRECTORY: .*auth, or a directory above it, exists and is not a directory; .*\); give a data directory this user may write/)
    expect(() => resolveCursorSecret(dir)).toThrow(/^dataDir: secret file .* cannot be created \(NOT_A_DIRECTORY/)
  })
})
