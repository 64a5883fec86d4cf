/**
 * `egress compact` bases its compaction on a snapshot a start would use, its seal included. A snapshot whose seal does
 * not hold (its signature damaged) is refused by a start (SEAL_INVALID), which then replays the whole log; compact
 * took it for its basis all the same (it never looked at seals) and removed the segments below it, and the next start
 * found neither a snapshot it could use nor the log's beginning: COMPACTED_NO_SNAPSHOT, a data dir that no longer
 * started. The seals are now checked as a start checks them (with the data dir's local key, or the config's).
 *
 * With the start's keys: audit.publicKeyFile first (a rotation's JWKS, holding the key that sealed an older snapshot).
 * Checked with the signing key alone, a seal of the old key was read for its claims only, its damaged signature unseen.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { localSealKeyPaths } from '../../src/audit/local-key.ts'
import { parseConfig, type AuditConfig } from '../../src/config/index.ts'
import { testKeys } from '../audit/support.ts'
import { removeDir, startWorld, tempDataDir } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { cli } from './io.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** The seal's signature with its first byte flipped: still a seal file, its claims intact, its signature not. */
function damageSignature(sealPath: string): void {
  const seal = JSON.parse(readFileSync(sealPath, 'utf8')) as { jws: string }
  const [header, body, signature] = seal.jws.split('.') as [string, string, string]
  const flipped = Buffer.from(signature, 'base64url')
  flipped[0] = (flipped[0] as number) ^ 0xff
  writeFileSync(sealPath, JSON.stringify({ ...seal, jws: `${header}.${body}.${flipped.toString('base64url')}` }))
}

/** A rotation's key files: the new key signing, the public JWKS holding the old key and the new. */
async function rotatedKeyFiles(): Promise<{ oldSigning: string; newSigning: string; jwks: string }> {
  const [oldKeys, newKeys] = [await testKeys(), await testKeys()]
  const keyDir = tempDataDir()
  dirs.push(keyDir)
  const oldSigning = join(keyDir, 'old.private.jwk.json')
  const newSigning = join(keyDir, 'new.private.jwk.json')
  const jwks = join(keyDir, 'seal.public.jwks.json')
  writeFileSync(oldSigning, JSON.stringify(oldKeys.privateJwk), { mode: 0o600 })
  writeFileSync(newSigning, JSON.stringify(newKeys.privateJwk), { mode: 0o600 })
  writeFileSync(jwks, JSON.stringify({ keys: [oldKeys.publicJwk, newKeys.publicJwk] }))
  return { oldSigning, newSigning, jwks }
}

const auditOf = (fields: Partial<AuditConfig>): AuditConfig => parseConfig({ audit: { selfCheckEveryMs: 3_600_000, anchorEveryMs: 0, sealEveryRecords: 20, ...fields } }).audit

/**
 * A data dir whose one snapshot was sealed with the old key, its signature then damaged, and a config after the
 * rotation (the new key signing, the JWKS holding both): a start refuses that snapshot.
 */
async function rotatedDataDir(seed: number): Promise<{ dir: string; file: string; configPath: string; audit: AuditConfig; world: Awaited<ReturnType<typeof startWorld>> }> {
  const keys = await rotatedKeyFiles()
  const dir = tempDataDir()
  dirs.push(dir)
  const options = { dir, snapshots: { keep: 1, atShutdown: false }, wal: { segmentBytesMax: 4096 } }
  const world = await startWorld({ seed, ...options, audit: auditOf({ signingKeyFile: keys.oldSigning }) })
  await trade(world, { orders: 30, tag: 'a', seed })
  const taken = await world.gateway.snapshot()
  if (taken === null) throw new Error('snapshot expected')
  await trade(world, { orders: 6, tag: 'b', seed: seed + 1 })
  await world.gateway.stop()
  damageSignature(join(dir, 'snapshots', `${taken.file}.seal`))
  const audit = auditOf({ signingKeyFile: keys.newSigning, publicKeyFile: keys.jwks })
  const configPath = join(tempDataDir(), 'egress.json')
  dirs.push(dirname(configPath))
  writeFileSync(configPath, JSON.stringify({ dataDir: dir, audit: { signingKeyFile: keys.newSigning, publicKeyFile: keys.jwks }, snapshots: { keep: 1 } }))
  return { dir, file: taken.file, configPath, audit, world }
}

const segments = (dir: string): string[] => readdirSync(join(dir, 'log')).filter((name) => name.endsWith('.seg'))

test('a snapshot whose seal a start refuses is no basis: nothing is removed, and the data dir still starts', async () => {
  const keys = await testKeys()
  const dir = tempDataDir()
  dirs.push(dir)
  // The data dir's local seal key, as egress serve seals with it; compact finds it there.
  const signingKeyFile = localSealKeyPaths(dir).privatePath
  mkdirSync(dirname(signingKeyFile), { recursive: true })
  writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
  const audit = parseConfig({ audit: { signingKeyFile, selfCheckEveryMs: 3_600_000, anchorEveryMs: 0, sealEveryRecords: 20 } }).audit
  const options = { dir, audit, snapshots: { keep: 1, atShutdown: false }, wal: { segmentBytesMax: 4096 } }
  const world = await startWorld({ seed: 7311, ...options })
  await trade(world, { orders: 30, tag: 'a', seed: 7311 })
  const taken = await world.gateway.snapshot()
  expect(taken).not.toBeNull()
  await trade(world, { orders: 6, tag: 'b', seed: 7312 })
  await world.gateway.stop()
  damageSignature(join(dir, 'snapshots', `${taken?.file}.seal`))
  const before = segments(dir)

  for (const args of [['--dry-run', '--json'], ['--delete', '--json']]) {
    const run = await cli(['compact', dir, ...args])
    expect(run.code).toBe(65)
    const result = JSON.parse(run.out) as { basis: unknown; removed: string[]; rejected: { file: string; code: string }[] }
    expect(result.basis).toBeNull()
    expect(result.removed).toEqual([])
    expect(result.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([[taken?.file as string, 'SEAL_INVALID']])
  }
  expect(segments(dir)).toEqual(before)

  const next = await startWorld({ seed: 7311, ...options, clock: world.clock, venue: world.venue })
  try {
    expect(next.gateway.restoreReport?.snapshot ?? null).toBeNull()
    expect(next.gateway.restoreReport?.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([[taken?.file as string, 'SEAL_INVALID']])
  } finally {
    await next.gateway.stop()
  }
}, 60_000)

test('seals are checked with the keys a start uses: audit.publicKeyFile, a rotation\'s old key in it', async () => {
  const { dir, file, configPath, audit, world } = await rotatedDataDir(7321)
  const before = segments(dir)
  const run = await cli(['compact', '--config', configPath, '--delete', '--json'])
  expect(run.code).toBe(65)
  const result = JSON.parse(run.out) as { basis: unknown; removed: string[]; rejected: { file: string; code: string }[] }
  expect(result.basis).toBeNull()
  expect(result.removed).toEqual([])
  expect(result.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([[file, 'SEAL_INVALID']])
  expect(segments(dir)).toEqual(before)

  const next = await startWorld({ seed: 7321, dir, snapshots: { keep: 1, atShutdown: false }, wal: { segmentBytesMax: 4096 }, audit, clock: world.clock, venue: world.venue })
  try {
    expect(next.gateway.restoreReport?.snapshot ?? null).toBeNull()
    expect(next.gateway.restoreReport?.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([[file, 'SEAL_INVALID']])
  } finally {
    await next.gateway.stop()
  }
}, 60_000)

test('egress snapshot folds from no snapshot a start refuses with its keys (audit.publicKeyFile)', async () => {
  const { file, configPath } = await rotatedDataDir(7331)
  const run = await cli(['snapshot', '--config', configPath, '--json'])
  expect(run.code).toBe(0)
  const result = JSON.parse(run.out) as { baseLsn: number; rejected: { file: string; code: string }[] }
  expect(result.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([[file, 'SEAL_INVALID']])
  expect(result.baseLsn).toBe(0)
}, 60_000)
