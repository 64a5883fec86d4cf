import { describe, expect, test } from 'bun:test'
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
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
