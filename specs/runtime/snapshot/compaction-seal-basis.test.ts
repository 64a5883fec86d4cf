/**
 * A running gateway's compaction bases itself on a snapshot a start would use, its seal included (as egress compact
 * does: specs/cli/compact-seal-basis). Its basis check (basis-check.ts) never looked at seals: an older retained
 * snapshot whose seal signature no longer verifies (SEAL_INVALID at a start) was taken for the basis and the segments
 * below it removed; with every newer snapshot unusable too, the next start found neither a snapshot nor the log's
 * beginning (COMPACTED_NO_SNAPSHOT). The seals are now checked with the keys a start verifies them with.
 */

import { afterEach, expect, test } from 'bun:test'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { parseConfig, type AuditConfig } from '../../../src/config/index.ts'
import { testKeys } from '../../audit/support.ts'
import { removeDir, startWorld, tempDataDir, worldsStoppedAfterEach, type World } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()
const keyDirs: string[] = []
afterEach(() => {
  for (const dir of keyDirs.splice(0)) removeDir(dir)
})

/** An audit config sealing with a fresh key; the self-check runs only when asked (it bounds compaction until then). */
async function sealingAudit(): Promise<AuditConfig> {
  const keys = await testKeys()
  const keyDir = tempDataDir()
  keyDirs.push(keyDir)
  const signingKeyFile = join(keyDir, 'seal.private.jwk.json')
  writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
  return parseConfig({ audit: { signingKeyFile, selfCheckEveryMs: 3_600_000, anchorEveryMs: 0, sealEveryRecords: 20 } }).audit
}

/** The seal's signature with its first byte flipped: still a seal file, its claims intact, its signature not. */
function damageSignature(sealPath: string): void {
  const seal = JSON.parse(readFileSync(sealPath, 'utf8')) as { jws: string }
  const [header, body, signature] = seal.jws.split('.') as [string, string, string]
  const flipped = Buffer.from(signature, 'base64url')
  flipped[0] = (flipped[0] as number) ^ 0xff
  writeFileSync(sealPath, JSON.stringify({ ...seal, jws: `${header}.${body}.${flipped.toString('base64url')}` }))
}

/** Snapshot io running `onManifest` once the manifest is in place: the snapshot's last step, its compaction next. */
function manifestHookIo(onManifest: () => void): WalIo {
  return {
    ...nodeIo,
    rename: (from, to) => {
      nodeIo.rename(from, to)
      if (to.endsWith('MANIFEST.json')) onManifest()
    },
  }
}

const segments = (world: World): string[] => readdirSync(join(world.dir, 'log')).filter((name) => name.endsWith('.seg')).sort()

/**
 * keep 2: an older snapshot whose compaction the self-check held back (nothing removed), more trading, then a newer
 * one; `beforeCompaction` runs as the newer one is in place, before its compaction chooses a basis.
 */
async function twoSnapshots(seed: number, audit: AuditConfig, beforeCompaction: (dir: string, older: string) => void): Promise<{ world: World; older: string; newer: string; before: string[] }> {
  let hook: (() => void) | null = null
  const io = manifestHookIo(() => hook?.())
  const world = await startWorld({ seed, audit, snapshots: { keep: 2, atShutdown: false, compaction: 'delete', io }, wal: { segmentBytesMax: 4096 } })
  worlds.push(world)
  await trade(world, { orders: 30, tag: 'a', seed })
  const older = await world.gateway.snapshot()
  if (older === null) throw new Error('snapshot expected')
  expect(world.gateway.snapshotter.stats.lastCompaction?.removed).toEqual([])
  await trade(world, { orders: 10, tag: 'b', seed: seed + 1 })
  // Verified through the head: the basis alone bounds the next compaction.
  expect(await world.gateway.audit?.selfCheckThroughHead()).toBeNull()
  const before = segments(world)
  hook = () => {
    hook = null
    beforeCompaction(join(world.dir, 'snapshots'), older.file)
  }
  const newer = await world.gateway.snapshot()
  if (newer === null) throw new Error('snapshot expected')
  return { world, older: older.file, newer: newer.file, before }
}

async function restart(world: World, audit: AuditConfig): Promise<World> {
  await world.gateway.stop()
  worlds.splice(worlds.indexOf(world), 1)
  const next = await startWorld({ seed: 1, dir: world.dir, clock: world.clock, venue: world.venue, audit, snapshots: { keep: 2, atShutdown: false } })
  worlds.push(next)
  return next
}

test('an older snapshot whose seal signature fails is no basis: the newer one is', async () => {
  const audit = await sealingAudit()
  const { world, older, newer } = await twoSnapshots(7401, audit, (dir, olderFile) => damageSignature(join(dir, `${olderFile}.seal`)))
  const compaction = world.gateway.snapshotter.stats.lastCompaction
  expect(compaction?.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([[older, 'SEAL_INVALID']])
  expect(compaction?.basis?.file).toBe(newer)
  const next = await restart(world, audit)
  expect(next.gateway.restoreReport?.snapshot?.file).toBe(newer)
}, 60_000)

test('with every snapshot\'s seal failing, nothing is removed, and the data dir still starts', async () => {
  const audit = await sealingAudit()
  const { world, older, newer, before } = await twoSnapshots(7402, audit, (dir) => {
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.snap.seal'))) damageSignature(join(dir, name))
  })
  const compaction = world.gateway.snapshotter.stats.lastCompaction
  expect(compaction?.basis ?? null).toBeNull()
  expect(compaction?.removed).toEqual([])
  expect(compaction?.rejected.map((rejected) => [rejected.file, rejected.code])).toEqual([
    [older, 'SEAL_INVALID'],
    [newer, 'SEAL_INVALID'],
  ])
  expect(segments(world).slice(0, before.length)).toEqual(before)
  // The start refuses both snapshots and replays the whole log, which is all still there.
  const next = await restart(world, audit)
  expect(next.gateway.restoreReport?.snapshot ?? null).toBeNull()
  expect(next.gateway.restoreReport?.rejected.map((rejected) => rejected.code)).toEqual(['SEAL_INVALID', 'SEAL_INVALID'])
}, 60_000)
