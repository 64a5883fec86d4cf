/**
 * `egress serve --lease-dir DIR` where DIR is the node's data directory or lies under it — as given, through a
 * symbolic link, or with the data dir given through one: a usage error, exit 2, naming both, before anything is
 * written. It was accepted: the node took its lease in its own data dir (`epoch-*.json` among the log's files), where
 * no other node shares it and a restored or replaced data dir takes the lease's epochs with it (ops review).
 */

import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../scripts/support/loopback.ts'
import { refuseLeaseDirInDataDir } from '../../src/cli/lease-dir-place.ts'
import { serveRefusal } from './support/serve-refusal.ts'

const dir = mkdtempSync(join(tmpdir(), 'egress-serve-ha-lease-in-data-'))
const TOKEN = { EGRESS_REPLICATION_TOKEN: 'x'.repeat(16) }

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs serve on `dataDir` with `leaseDir` (both under a fresh case directory); its exit and what it left behind. */
async function serveWith(name: string, paths: (at: string) => { dataDir: string; leaseDir: string }) {
  const at = join(dir, name)
  mkdirSync(join(at, 'data'), { recursive: true })
  symlinkSync(join(at, 'data'), join(at, 'data-link'))
  const { dataDir, leaseDir } = paths(at)
  const env = { ...TOKEN, EGRESS_DATA_DIR: dataDir, EGRESS_HOST: '127.0.0.1', PORT: String(await freePort()), EGRESS_WAL_DURABILITY: 'none' }
  return { ...(await serveRefusal(['--lease-dir', leaseDir], env)), dataDirHolds: readdirSync(join(at, 'data')) }
}

const refusal = (leaseDir: string, where: string, dataDir: string): string =>
  `egress serve: --lease-dir ${leaseDir}: ${where} the data directory ${dataDir}; the lease is shared by the nodes and each has its own data directory: give a directory outside it (see "egress serve --help")`

test.each([
  ['the data dir itself', (at: string) => ({ dataDir: join(at, 'data'), leaseDir: join(at, 'data') }), 'is'],
  ['a directory under it, not made yet', (at: string) => ({ dataDir: join(at, 'data'), leaseDir: join(at, 'data', 'ha', 'lease') }), 'lies in'],
  ['under a symbolic link to it', (at: string) => ({ dataDir: join(at, 'data'), leaseDir: join(at, 'data-link', 'lease') }), 'lies in'],
  ['under it, the data dir given through a link', (at: string) => ({ dataDir: join(at, 'data-link'), leaseDir: join(at, 'data', 'lease') }), 'lies in'],
] as const)('a lease dir that is %s: exit 2 naming both, nothing written', async (name, paths, where) => {
  const result = await serveWith(name.replace(/\W+/g, '-'), paths)
  const { dataDir, leaseDir } = paths(join(dir, name.replace(/\W+/g, '-')))
  expect(result).toEqual({ code: 2, stderr: refusal(leaseDir, where, dataDir), dataDirHolds: [] })
}, 30_000)

test('a lease dir beside the data dir, or holding it, is not refused by the check', () => {
  const at = join(dir, 'beside')
  mkdirSync(join(at, 'data'), { recursive: true })
  symlinkSync(join(at, 'data'), join(at, 'data-link'))
  expect(() => refuseLeaseDirInDataDir(join(at, 'lease'), join(at, 'data'))).not.toThrow()
  expect(() => refuseLeaseDirInDataDir(join(at, 'data-lease'), join(at, 'data-link'))).not.toThrow()
  expect(() => refuseLeaseDirInDataDir(at, join(at, 'data'))).not.toThrow()
  expect(() => refuseLeaseDirInDataDir(join(at, 'data', '..', 'lease'), join(at, 'data'))).not.toThrow()
  expect(() => refuseLeaseDirInDataDir(join(at, 'data', '..lease'), join(at, 'data'))).toThrow('lies in the data directory')
  expect(existsSync(join(at, 'lease'))).toBe(false)
})
