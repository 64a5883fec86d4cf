/**
 * `egress serve` on a directory that is some other program's (DATA_DIR_FOREIGN): it used to write its lock, log,
 * snapshots, query model and HS256 secret among that directory's files (EGRESS_DATA_DIR=. in a checkout, $HOME). Now
 * it exits 1 naming the unexpected entries, having written nothing. The layouts egress itself leaves — fresh, a start
 * interrupted early, a token's secret only, an HA node's swap files and set-aside logs, archive/ and quarantine/,
 * a config or keys kept beside the data — are accepted, as is any directory bearing a mark of a data dir.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'
import { DataDirForeignError, pathsNamedBy, refuseForeignDataDir } from '../../src/cli/foreign-data-dir.ts'
import { ConfigError, parseConfig } from '../../src/config/index.ts'
import { BANNER_END, bannerOf } from './serve-banner.ts'

const ROOT = resolve(import.meta.dir, '../..')
const root = mkdtempSync(join(tmpdir(), 'egress-foreign-data-dir-'))
let dirs = 0

afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A new directory holding `entries`: a name ending in / is a directory, any other a file (parents created). */
function layout(entries: readonly string[]): string {
  const dir = join(root, `d${++dirs}`)
  mkdirSync(dir)
  for (const entry of entries) {
    const path = join(dir, entry)
    if (entry.endsWith('/')) mkdirSync(path, { recursive: true })
    else {
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, 'x')
    }
  }
  return dir
}

function refusal(dir: string): DataDirForeignError | null {
  try {
    refuseForeignDataDir(dir)
    return null
  } catch (error) {
    if (error instanceof DataDirForeignError) return error
    throw error
  }
}

describe('accepted: what egress leaves, and harmless entries', () => {
  test.each([
    ['an empty directory', []],
    ['a start interrupted before its log had a segment', ['DATA_DIR_LOCK', 'log/']],
    ['only the HS256 secret a token command generated', ['auth/hs256.secret']],
    ['a first start stopped after it made its local seal key', ['auth/hs256.secret', 'audit/seal-ed25519.private.jwk.json', 'audit/seal-ed25519.public.jwk.json']],
    ['only a config file and seal keys', ['egress.json', 'seal-ed25519.public.jwk.json', 'seal-ed25519.private.jwk.json']],
    ['a log and its lock, no DATA_DIR_LOCK (an older build)', ['log/LOCK', 'log/00000000000000000001.seg']],
    ['an HA node left mid-swap', ['log/', 'log.prefix/', 'diverged-prefix.commit', 'log.diverged-1/x', 'snapshots.diverged-1/']],
    ['a snapshot install left mid-way', ['log.recovering/', 'snapshots.recovering/', 'snapshot-recovery.commit', 'snapshots/MANIFEST.json']],
    ['archive, quarantine and forensics beside the log', ['archive/00000000000000000001.seg', 'quarantine/tail-1.bin', 'forensics/bundle-1/', 'log/LOCK']],
    ['the query model and its SQLite side files', ['backoffice.sqlite', 'backoffice.sqlite-wal', 'backoffice.sqlite-shm', 'backoffice.sqlite.restore.tmp']],
    ['a volume mount point', ['lost+found/']],
    // The log on a volume of its own: its first start found log/lost+found foreign (DATA_DIR_FOREIGN), no mark yet.
    ['a first start on a log volume of its own', ['log/lost+found/']],
    ['a first start on a kept empty log/', ['log/.gitkeep']],
    ['a data dir with an operator\'s notes beside it', ['DATA_DIR_LOCK', 'log/00000000000000000001.seg', 'NOTES.txt', 'backup.sh']],
    ['notes beside a data dir known by its snapshots alone', ['snapshots/snapshot-00000000000000000009.snap', 'NOTES.txt']],
  ])('%s', (_name, entries) => {
    expect(refusal(layout(entries))).toBeNull()
  })

  test('the config file and the lease directory serve was given, whatever their names', () => {
    const dir = layout(['egress.conf', 'lease/epoch-0000000001.json'])
    expect(refusal(dir)?.entries).toEqual(['egress.conf', 'lease'])
    expect(() => refuseForeignDataDir(dir, [join(dir, 'egress.conf'), join(dir, 'lease')])).not.toThrow()
  })

  test('a given path deeper in the data dir: the entry holding it (keys from `egress keygen --out data/keys`, a config in conf/)', () => {
    const dir = layout(['keys/seal-ed25519.private.jwk.json', 'keys/seal-ed25519.public.jwk.json', 'conf/egress.json'])
    expect(refusal(dir)?.entries).toEqual(['conf', 'keys'])
    const config = parseConfig({ dataDir: dir, audit: { signingKeyFile: join(dir, 'keys', 'seal-ed25519.private.jwk.json') } })
    expect(() => refuseForeignDataDir(dir, [join(dir, 'conf', 'egress.json'), ...pathsNamedBy(config)])).not.toThrow()
    // Only the entries holding them: a given path outside the data dir, or beside it, exempts nothing.
    const outside = [join(root, 'elsewhere', 'keys', 'seal-ed25519.private.jwk.json'), `${dir}-keys/egress.json`, join(dir, 'conf', '..', '..', 'conf')]
    expect(() => refuseForeignDataDir(dir, [join(dir, 'conf', 'egress.json'), ...outside])).toThrow(/holds "keys", and no log/)
  })

  test('the paths a config names: seal keys, JWKS, forensics and archive directories', () => {
    const config = parseConfig({
      auth: { jwksFile: 'a/jwks.json' },
      audit: { signingKeyFile: 'b/private.json', publicKeyFile: 'c/public.json', forensicsDir: 'd' },
      snapshots: { compaction: 'archive', archiveDir: 'e' },
    })
    expect(pathsNamedBy(config)).toEqual(['b/private.json', 'c/public.json', 'd', 'a/jwks.json', 'e'])
    expect(pathsNamedBy(parseConfig({}))).toEqual([])
  })

  test('an absent directory (a first start creates it)', () => {
    expect(refusal(join(root, 'absent'))).toBeNull()
  })
})

describe('refused: DATA_DIR_FOREIGN, naming the unexpected entries', () => {
  test('a project checkout', () => {
    const dir = layout(['package.json', 'src/main.ts', 'README.md', '.git/HEAD'])
    const error = refusal(dir)
    expect(error?.code).toBe('DATA_DIR_FOREIGN')
    expect(error?.entries).toEqual(['.git', 'README.md', 'src'])
    expect(error?.message).toStartWith(`DATA_DIR_FOREIGN: ${dir} is not an egress data directory: it holds ".git", "README.md", "src", and no log`)
  })

  test('a directory like /var: a log/ without segments is no mark of a data dir, and what it holds is named', () => {
    expect(refusal(layout(['log/syslog', 'lib/', 'cache/']))?.entries).toEqual(['cache', 'lib', 'log/syslog'])
  })

  test("a program's data dir of a settings file and a log/ of its own: what log/ holds is foreign", () => {
    // Only top-level names were looked at: log/ and a .json passed, and serve wrote its segments beside app.log.
    const error = refusal(layout(['settings.json', 'log/app.log', 'log/app.log.1']))
    expect(error?.entries).toEqual(['log/app.log', 'log/app.log.1'])
    expect(error?.message).toContain('it holds "log/app.log", "log/app.log.1", and no log')
    // A file named log can hold no log either.
    expect(refusal(layout(['log']))?.entries).toEqual(['log'])
    // The log's own names are not: a roll's temp file, an empty log/ (accepted above), a lock with segments (a mark).
    expect(refusal(layout(['log/00000000000000000001.seg.tmp']))).toBeNull()
    // Nor is what tells nothing, but it hides nothing beside it.
    expect(refusal(layout(['log/lost+found/', 'log/syslog']))?.entries).toEqual(['log/syslog'])
  })

  test("a checkout `egress token` was pointed at first: the HS256 secret it generated there is no mark of a data dir", () => {
    // EGRESS_DATA_DIR=. egress token, then EGRESS_DATA_DIR=. egress serve: the secret alone made the checkout pass.
    expect(refusal(layout(['auth/hs256.secret', 'package.json', 'src/main.ts']))?.entries).toEqual(['src'])
  })

  test('a home directory of dotfiles', () => {
    expect(refusal(layout(['.bashrc', '.profile', '.cache/']))?.entries).toEqual(['.bashrc', '.cache', '.profile'])
  })

  test('many entries: five named, the rest counted', () => {
    const error = refusal(layout(['a', 'b', 'c', 'd', 'e', 'f', 'g']))
    expect(error?.message).toContain('it holds "a", "b", "c", "d", "e" and 2 more, and no log')
  })
})

test('egress serve on a foreign directory exits 1 with DATA_DIR_FOREIGN and writes nothing there', async () => {
  const dir = layout(['package.json', 'src/main.ts', 'README.md'])
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dir, PORT: String(await freePort()), EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    const code = await Promise.race([child.exited, Bun.sleep(20_000).then(() => 'still running after 20 s')])
    if (child.exitCode === null) child.kill('SIGKILL')
    const stderr = await new Response(child.stderr as ReadableStream).text()
    expect(code).toBe(1)
    expect(stderr.trim()).toBe(`egress serve: DATA_DIR_FOREIGN: ${dir} is not an egress data directory: it holds "README.md", "src", and no log, snapshot or DATA_DIR_LOCK; nothing was written. Give an empty or new directory (config dataDir, EGRESS_DATA_DIR), or the data directory of an earlier run`)
    expect(readdirSync(dir).sort()).toEqual(['README.md', 'package.json', 'src'])
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)

test('egress serve starts on a data dir holding only the seal keys `egress keygen --out <dataDir>/keys` wrote, which its config names', async () => {
  const dir = layout([])
  const keys = join(dir, 'keys')
  const keygen = Bun.spawnSync([process.execPath, 'src/main.ts', 'keygen', '--out', keys], { cwd: ROOT, stdout: 'ignore', stderr: 'pipe' })
  expect(keygen.exitCode).toBe(0)
  const configPath = join(root, `config-${dirs}.json`)
  writeFileSync(configPath, JSON.stringify({ dataDir: dir, audit: { signingKeyFile: join(keys, 'seal-ed25519.private.jwk.json') } }))
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--config', configPath], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(await freePort()), EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  try {
    const out = await bannerOf(child)
    // Before, it exited 1: DATA_DIR_FOREIGN … it holds "keys".
    if (!out.includes(BANNER_END)) throw new Error(`serve exited ${await child.exited}: ${await new Response(child.stderr as ReadableStream).text()}`)
    expect(readdirSync(dir)).toContain('log')
  } finally {
    child.kill('SIGTERM')
    await child.exited
  }
}, 30_000)

describe('a data dir that cannot be listed', () => {
  // readdirSync's raw ENOTDIR / EACCES reached the operator with no field named.
  test('is a config error naming dataDir', () => {
    const file = join(root, `plain-file-${dirs++}`)
    writeFileSync(file, 'not a directory')
    expect(() => refuseForeignDataDir(file)).toThrow(ConfigError)
    expect(() => refuseForeignDataDir(file)).toThrow(/^dataDir: .* cannot be listed \(ENOTDIR\)/)
  })
})
