/**
 * Snapshot seals (DESIGN §3: after compaction, "verification of the chain restarts from the sealed head stored with the
 * snapshot"). A gateway holding the seal key signs each snapshot's LSN, chain head and content digest, beside the file
 * (snapshot-N.snap.seal). Before, nothing was signed: with disk access, the only retained snapshot of a compacted log
 * could be edited (balances) with its digest recomputed, or the log's chain base forged with the chain recomputed
 * after it, and `egress audit verify` said CLEAN (it read no snapshot and took the base on the first header's word)
 * while `egress replay-verify` said MATCH (it restored the edited state and replayed the tail onto it).
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chainHashReference } from '../../../wal/index.ts'
import { verifyLogDirectory } from '../../../src/audit/index.ts'
import { parseConfig, type AuditConfig } from '../../../src/config/index.ts'
import {
  decodeSnapshot, encodeSnapshot, KERNEL_SECTION, kernelStateBytes, kernelStateFromBytes, replayVerify, sealVerdicts, SnapshotStore,
  type ReplayVerifyReport,
} from '../../../src/runtime/snapshot/index.ts'
import { keyResolverFromJwk } from '../../../src/audit/keys.ts'
import { nodeIo } from '../../../wal/index.ts'
import { testKeys, type TestKeys } from '../../audit/support.ts'
import { crashWorld, removeDir, startWorld, tempDataDir, worldsStoppedAfterEach, type World } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()
const keyDirs: string[] = []
afterEach(() => {
  for (const dir of keyDirs.splice(0)) removeDir(dir)
})

/** An audit config signing with `keys`; `logSeals` false: no seal record is ever due (none in the log). */
function auditWith(keys: TestKeys, options: { logSeals: boolean }): AuditConfig {
  const keyDir = tempDataDir()
  keyDirs.push(keyDir)
  const signingKeyFile = join(keyDir, 'seal.private.jwk.json')
  writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
  const seals = options.logSeals ? { sealEveryRecords: 20 } : { sealEveryRecords: 100_000_000, sealEveryMs: 86_400_000 }
  return parseConfig({ audit: { signingKeyFile, selfCheckEveryMs: 3_600_000, anchorEveryMs: 0, ...seals } }).audit
}

/** A compacted data dir: trading, one snapshot (keep 1) that the log is compacted below, more trading after it. */
async function compactedWorld(seed: number, audit: AuditConfig | undefined): Promise<World> {
  const world = await startWorld({ seed, ...(audit === undefined ? {} : { audit }), snapshots: { keep: 1, atShutdown: false, compaction: 'delete' }, wal: { segmentBytesMax: 4096 } })
  worlds.push(world)
  await trade(world, { orders: 30, tag: 'a', seed })
  // The self-check's unverified records bound compaction: verified through the head, the basis alone does.
  await world.gateway.audit?.selfCheckThroughHead()
  expect(await world.gateway.snapshot()).not.toBeNull()
  await trade(world, { orders: 10, tag: 'b', seed: seed + 1 })
  return world
}

function snapshotFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'snapshots')).filter((name) => name.endsWith('.snap')).sort()
}

/** An edit with disk access: acct-a's USD balance raised, the kernel section re-encoded and the digest recomputed. */
function forgeBalance(path: string): void {
  const content = decodeSnapshot(new Uint8Array(readFileSync(path)))
  const state = kernelStateFromBytes(content.sections.get(KERNEL_SECTION) as Uint8Array, { schema: content.header.kernelSchema })
  const ledger = state.accounts.get('acct-a')
  if (ledger === undefined) throw new Error('no acct-a in the snapshot')
  ledger.balances.set('USD', (ledger.balances.get('USD') ?? 0n) + 1_000_000_000_000n)
  const sections = new Map(content.sections)
  sections.set(KERNEL_SECTION, kernelStateBytes(state))
  const { lsn, chainHead, createdAtMs, kernelSchema } = content.header
  writeFileSync(path, encodeSnapshot({ lsn, chainHead, createdAtMs, kernelSchema }, sections).bytes)
}

/** A forged chain base: the first segment's header chains from another head, every hash and CRC after it recomputed. */
function forgeBase(logDir: string): void {
  let head: Uint8Array = new Uint8Array(32).fill(0x5a)
  for (const name of readdirSync(logDir).filter((file) => file.endsWith('.seg')).sort()) {
    const bytes = readFileSync(join(logDir, name))
    bytes.set(head, 24)
    bytes.writeUInt32LE(Bun.hash.crc32(bytes.subarray(16, 64)), 12)
    for (let offset = 64; offset + 56 <= bytes.byteLength; ) {
      const length = bytes.readUInt32LE(offset)
      if (length === 0) break
      const end = offset + length + 8
      head = chainHashReference(head, bytes.subarray(offset + 40, end))
      bytes.set(head, offset + 8)
      bytes.writeUInt32LE(Bun.hash.crc32(bytes.subarray(offset + 8, end)), offset + 4)
      offset = end
    }
    writeFileSync(join(logDir, name), bytes)
  }
}

/** replay-verify as the CLI runs it: the snapshots' seals worked out first, with the key. */
async function replayVerified(dataDir: string, keys: TestKeys | null): Promise<ReplayVerifyReport> {
  const resolver = keys === null ? null : await keyResolverFromJwk(keys.publicJwk)
  const seals = await sealVerdicts(new SnapshotStore(join(dataDir, 'snapshots'), { io: nodeIo, keep: 100 }), resolver)
  return replayVerify(dataDir, { from: 'auto', queryModel: false, seals, sealSignaturesChecked: resolver !== null })
}

test('a gateway holding the seal key seals its snapshot; audit verify checks the compacted base against it', async () => {
  const keys = await testKeys()
  const world = await compactedWorld(7301, auditWith(keys, { logSeals: true }))
  await world.gateway.stop()
  const [file] = snapshotFiles(world.dir)
  expect(existsSync(join(world.dir, 'snapshots', `${file}.seal`))).toBe(true)
  const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey: keys.publicJwk, snapshotsDir: join(world.dir, 'snapshots') })
  expect(report.firstLsn).toBeGreaterThan(1)
  expect(report.problems).toEqual([])
  expect(report.snapshots).toMatchObject({ files: 1, sealed: 1, unsealed: [], signaturesChecked: true, headsChecked: 1, baseCheckedBy: file })
  const replayed = await replayVerified(world.dir, keys)
  expect(replayed.ok).toBe(true)
  expect(replayed.base).toMatchObject({ kind: 'snapshot', file, sealed: true })
})

test('a compacted log\'s only snapshot, its state edited and digest recomputed: audit verify and replay-verify report it', async () => {
  const keys = await testKeys()
  const world = await compactedWorld(7302, auditWith(keys, { logSeals: true }))
  await world.gateway.stop()
  const [file] = snapshotFiles(world.dir) as [string]
  forgeBalance(join(world.dir, 'snapshots', file))

  const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey: keys.publicJwk, snapshotsDir: join(world.dir, 'snapshots') })
  expect(report.ok).toBe(false)
  expect(report.problems.map((problem) => problem.code)).toEqual(['SNAPSHOT_SEAL_MISMATCH'])
  expect(report.snapshots?.baseCheckedBy).toBeNull()

  const replayed = await replayVerified(world.dir, keys)
  expect(replayed.ok).toBe(false)
  expect(replayed.snapshots.map((check) => [check.file, check.status, check.problem?.split(':')[0]])).toEqual([[file, 'invalid', 'SEAL_INVALID']])
  expect(replayed.base.kind).toBe('genesis') // no valid snapshot to start from: nothing is rebuilt on the edited state
  expect(replayed.problems.some((problem) => problem.includes('no valid snapshot covers it'))).toBe(true)
})

test('a forged chain base, every hash after it recomputed, in a log holding no seal record: reported against the snapshot\'s seal', async () => {
  const keys = await testKeys()
  const world = await compactedWorld(7303, auditWith(keys, { logSeals: false }))
  await crashWorld(world)
  worlds.splice(worlds.indexOf(world), 1)
  try {
    const logDir = join(world.dir, 'log')
    const before = await verifyLogDirectory(logDir, { publicKey: keys.publicJwk, snapshotsDir: join(world.dir, 'snapshots') })
    expect(before.problems).toEqual([])
    expect(before.seals.checked).toBe(0)
    forgeBase(logDir)
    const report = await verifyLogDirectory(logDir, { publicKey: keys.publicJwk, snapshotsDir: join(world.dir, 'snapshots') })
    expect(report.problems.map((problem) => problem.code)).toEqual(['SNAPSHOT_SEAL_HEAD_MISMATCH'])
    expect(before.snapshots?.baseCheckedBy).toBe(snapshotFiles(world.dir)[0] as string)
    expect(report.problems[0]?.lsn).toBe(Number(/\d+/.exec(snapshotFiles(world.dir)[0] as string)?.[0]))
  } finally {
    removeDir(world.dir)
  }
})

test('an unsealed snapshot (no key, or an older build): reported unsealed, the base not said checked, verify still passes', async () => {
  const keys = await testKeys()
  const world = await compactedWorld(7304, auditWith(keys, { logSeals: true }))
  await world.gateway.stop()
  const [file] = snapshotFiles(world.dir) as [string]
  rmSync(join(world.dir, 'snapshots', `${file}.seal`))
  const report = await verifyLogDirectory(join(world.dir, 'log'), { publicKey: keys.publicJwk, snapshotsDir: join(world.dir, 'snapshots') })
  expect(report.ok).toBe(true)
  expect(report.snapshots).toMatchObject({ files: 1, sealed: 0, unsealed: [file], baseCheckedBy: null })
  const replayed = await replayVerified(world.dir, keys)
  expect(replayed.ok).toBe(true)
  expect(replayed.seals).toMatchObject({ sealed: [], unsealed: [file] })
  expect(replayed.base).toMatchObject({ file, sealed: false })
})

test('a damaged seal: the start skips that snapshot (SEAL_INVALID) for an older one; an unsealed one is used', async () => {
  const keys = await testKeys()
  const audit = auditWith(keys, { logSeals: true })
  const world = await startWorld({ seed: 7305, audit, snapshots: { keep: 2, atShutdown: false } })
  worlds.push(world)
  await trade(world, { orders: 12, tag: 'a', seed: 7305 })
  const older = await world.gateway.snapshot()
  await trade(world, { orders: 12, tag: 'b', seed: 7306 })
  const newer = await world.gateway.snapshot()
  await world.gateway.stop()
  worlds.splice(worlds.indexOf(world), 1)
  const sealPath = join(world.dir, 'snapshots', `${newer?.file}.seal`)
  const seal = JSON.parse(readFileSync(sealPath, 'utf8')) as { jws: string }
  const [header, body, signature] = seal.jws.split('.') as [string, string, string]
  const flipped = Buffer.from(signature, 'base64url')
  flipped[0] = (flipped[0] as number) ^ 0xff
  writeFileSync(sealPath, JSON.stringify({ ...seal, jws: `${header}.${body}.${flipped.toString('base64url')}` }))

  const next = await startWorld({ seed: 7305, dir: world.dir, clock: world.clock, venue: world.venue, audit, snapshots: { keep: 2, atShutdown: false } })
  worlds.push(next)
  expect(next.gateway.restoreReport?.snapshot?.file).toBe(older?.file)
  expect(next.gateway.restoreReport?.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([[newer?.file as string, 'SEAL_INVALID']])
  await next.gateway.stop()
  worlds.splice(worlds.indexOf(next), 1)

  // No seal at all beside the newest: used as before.
  rmSync(sealPath)
  const third = await startWorld({ seed: 7305, dir: world.dir, clock: next.clock, venue: next.venue, audit, snapshots: { keep: 2, atShutdown: false } })
  worlds.push(third)
  expect(third.gateway.restoreReport?.snapshot?.file).toBe(newer?.file)
  expect(third.gateway.restoreReport?.rejected).toEqual([])
})

test('a seal signed by a key the start does not hold (a rotation that left the old public key out): read for its claims, the snapshot used', async () => {
  const oldKeys = await testKeys()
  const world = await startWorld({ seed: 7307, audit: auditWith(oldKeys, { logSeals: false }), snapshots: { keep: 1, atShutdown: false } })
  worlds.push(world)
  await trade(world, { orders: 12, tag: 'a', seed: 7307 })
  const sealed = await world.gateway.snapshot()
  await world.gateway.stop()
  worlds.splice(worlds.indexOf(world), 1)
  expect(existsSync(join(world.dir, 'snapshots', `${sealed?.file}.seal`))).toBe(true)

  // Refused, it protected nothing (a seal can be removed, and an unsealed snapshot is used), while every snapshot of a
  // compacted log refused would leave it no start at all.
  const newKeys = await testKeys()
  const next = await startWorld({ seed: 7307, dir: world.dir, clock: world.clock, venue: world.venue, audit: auditWith(newKeys, { logSeals: false }), snapshots: { keep: 1, atShutdown: false } })
  worlds.push(next)
  expect(next.gateway.restoreReport?.snapshot?.file).toBe(sealed?.file)
  expect(next.gateway.restoreReport?.rejected).toEqual([])
  await next.gateway.stop()
  worlds.splice(worlds.indexOf(next), 1)

  // Its claims are still read: a seal of another key that signs another digest refuses the snapshot.
  const sealPath = join(world.dir, 'snapshots', `${sealed?.file}.seal`)
  const seal = JSON.parse(readFileSync(sealPath, 'utf8')) as { jws: string }
  const [header, body, signature] = seal.jws.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { digest: string }
  const forged = Buffer.from(JSON.stringify({ ...claims, digest: '0'.repeat(64) })).toString('base64url')
  writeFileSync(sealPath, JSON.stringify({ ...seal, jws: `${header}.${forged}.${signature}` }))
  const third = await startWorld({ seed: 7307, dir: world.dir, clock: next.clock, venue: next.venue, audit: auditWith(newKeys, { logSeals: false }), snapshots: { keep: 1, atShutdown: false } })
  worlds.push(third)
  expect(third.gateway.restoreReport?.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([[sealed?.file as string, 'SEAL_INVALID']])
})

test('a rotation whose audit.publicKeyFile is the new key\'s JWK with no kid: the old key\'s seal is read for its claims, the compacted log starts', async () => {
  const oldKeys = await testKeys()
  const world = await compactedWorld(7308, auditWith(oldKeys, { logSeals: false }))
  await world.gateway.stop()
  worlds.splice(worlds.indexOf(world), 1)
  const [file] = snapshotFiles(world.dir) as [string]
  expect(existsSync(join(world.dir, 'snapshots', `${file}.seal`))).toBe(true)

  // A public key file with no kid is taken (setup.ts refuseForeignPublicKey), and its resolver answers every kid with
  // its key: the old key's seal was verified with the new key, refused (SEAL_INVALID), and the compacted log's only
  // snapshot with it: COMPACTED_NO_SNAPSHOT.
  const newKeys = await testKeys()
  const { kid: _kid, ...kidless } = newKeys.publicJwk
  const keyDir = tempDataDir()
  keyDirs.push(keyDir)
  const publicKeyFile = join(keyDir, 'seal.public.jwk.json')
  writeFileSync(publicKeyFile, JSON.stringify(kidless))
  const audit = { ...auditWith(newKeys, { logSeals: false }), publicKeyFile }
  const next = await startWorld({
    seed: 7308, dir: world.dir, clock: world.clock, venue: world.venue, audit, snapshots: { keep: 1, atShutdown: false, compaction: 'delete' }, wal: { segmentBytesMax: 4096 },
  })
  worlds.push(next)
  expect(next.gateway.restoreReport?.rejected).toEqual([])
  expect(next.gateway.restoreReport?.snapshot?.file).toBe(file)

  // The new key's own seal is still checked with that key: its signature flipped, it does not hold.
  await trade(next, { orders: 4, tag: 'c', seed: 7309 })
  const resealed = await next.gateway.snapshot()
  await next.gateway.stop()
  worlds.splice(worlds.indexOf(next), 1)
  const store = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 1 })
  const sealPath = join(world.dir, 'snapshots', `${resealed?.file}.seal`)
  const seal = JSON.parse(readFileSync(sealPath, 'utf8')) as { jws: string }
  const [header, body, signature] = seal.jws.split('.') as [string, string, string]
  const flipped = Buffer.from(signature, 'base64url')
  flipped[0] = (flipped[0] as number) ^ 0xff
  writeFileSync(sealPath, JSON.stringify({ ...seal, jws: `${header}.${body}.${flipped.toString('base64url')}` }))
  const verdicts = await sealVerdicts(store, await keyResolverFromJwk(kidless), { unknownKey: 'unverified' })
  expect(verdicts.get(resealed?.file as string)?.ok).toBe(false)
})

test('the only snapshot of a compacted log refused for its seal alone: the start fails closed and says how to go on; the seal moved aside, it starts', async () => {
  const keys = await testKeys()
  const audit = auditWith(keys, { logSeals: false })
  const world = await compactedWorld(7310, audit)
  await world.gateway.stop()
  worlds.splice(worlds.indexOf(world), 1)
  const [file] = snapshotFiles(world.dir) as [string]
  const sealPath = join(world.dir, 'snapshots', `${file}.seal`)
  const seal = JSON.parse(readFileSync(sealPath, 'utf8')) as { jws: string }
  const [header, body, signature] = seal.jws.split('.') as [string, string, string]
  const flipped = Buffer.from(signature, 'base64url')
  flipped[0] = (flipped[0] as number) ^ 0xff
  writeFileSync(sealPath, JSON.stringify({ ...seal, jws: `${header}.${body}.${flipped.toString('base64url')}` }))
  const options = { seed: 7310, dir: world.dir, clock: world.clock, venue: world.venue, audit, snapshots: { keep: 1, atShutdown: false, compaction: 'delete' as const }, wal: { segmentBytesMax: 4096 } }
  await expect(startWorld(options)).rejects.toThrow(/COMPACTED_NO_SNAPSHOT.*SEAL_INVALID.*move its \.seal file aside/)
  rmSync(sealPath)
  const next = await startWorld(options)
  worlds.push(next)
  expect(next.gateway.restoreReport?.snapshot?.file).toBe(file)
})
