/**
 * Snapshot seals where snapshots are copied or taken away from the leader (runtime/snapshot/seal-file.ts). Before, an
 * `egress backup` wrote the leader's snapshot without its seal (GET /replication/snapshot sent only the file), so
 * `egress audit verify` of the backup found no sealed snapshot vouching for its compacted base; a standby's gateway,
 * running on the pair's audit config with the seal key, wrote its own snapshots unsealed. Now the leader sends the
 * seal with the file (X-Egress-Snapshot-Seal), the backup and a standby's install write it beside the snapshot, a seal
 * that does not describe the file is refused (never copied, never silently dropped), and a standby holding the key
 * seals its snapshots.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo } from '../../../wal/index.ts'
import { verifyLogDirectory } from '../../../src/audit/index.ts'
import { keyResolverFromJwk } from '../../../src/audit/keys.ts'
import { parseConfig, type AuditConfig } from '../../../src/config/index.ts'
import { signSnapshotSeal } from '../../../src/audit/snapshot-seal.ts'
import { fetchLeaderSnapshot, installLeaderSnapshot, SNAPSHOT_HEADERS, standbyRequestHeaders } from '../../../src/runtime/ha/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { decodeSnapshot, sealVerdicts, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { testKeys, type TestKeys } from '../../audit/support.ts'
import { removeDir, run, startWorld, tempDataDir, type World } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { backup, nothingLeft, outDir, replayVerify } from './backup-support.ts'
import { recoveringStandbyOptions } from './compacting-leader.ts'
import { haHttp, replicator, serveReplication, TOKEN, waitFor } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The pair's audit config: signing with `keys` (no seal record due: none in the log). */
function auditWith(keys: TestKeys): AuditConfig {
  const keyDir = tempDataDir()
  cleanups.push(() => removeDir(keyDir))
  const signingKeyFile = join(keyDir, 'seal.private.jwk.json')
  writeFileSync(signingKeyFile, JSON.stringify(keys.privateJwk), { mode: 0o600 })
  return parseConfig({ audit: { signingKeyFile, selfCheckEveryMs: 3_600_000, anchorEveryMs: 0, sealEveryRecords: 100_000_000, sealEveryMs: 86_400_000 } }).audit
}

/** A leader holding the seal key, one sealed snapshot taken after trading and more records after it, serving replication. */
async function sealedLeader(seed: number, keys: TestKeys, intercept?: (url: URL) => Promise<Response> | undefined): Promise<{ world: World; url: string }> {
  const world = await startWorld({ seed, audit: auditWith(keys), wal: { segmentBytesMax: 4096 }, snapshots: { keep: 2, atShutdown: false } })
  const store = (): SnapshotStore => new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 })
  const server = serveReplication(() => world.gateway.engine.wal, haHttp({ snapshots: store }), intercept)
  cleanups.push(async () => {
    server.stop()
    await world.gateway.stop()
    removeDir(world.dir)
  })
  await trade(world, { orders: 20, tag: 'a', seed })
  expect(await world.gateway.snapshot()).not.toBeNull()
  await trade(world, { orders: 5, tag: 'b', seed: seed + 1 })
  return { world, url: server.url }
}

const snapshotFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.snap')).sort()

describe('egress backup of a leader that seals its snapshots', () => {
  test('the backup holds the seal beside the snapshot; audit verify names it as vouching for the base', async () => {
    const keys = await testKeys()
    const { url } = await sealedLeader(8101, keys)
    const { out } = outDir(cleanups)
    const done = await backup(['--from', url, '--out', out])
    if (done.code !== 0) throw new Error(`backup failed: ${done.stderr}`)
    const result = done.result as { firstLsn: number; snapshot: { lsn: number; sealed: boolean } | null }
    expect(result.firstLsn).toBeGreaterThan(1)
    expect(result.snapshot).toMatchObject({ lsn: result.firstLsn, sealed: true })
    const snapshotsDir = join(out, 'snapshots')
    const [file] = snapshotFiles(snapshotsDir) as [string]
    expect(existsSync(join(snapshotsDir, `${file}.seal`))).toBe(true)
    expect(JSON.parse(readFileSync(join(out, 'BACKUP.json'), 'utf8')).snapshot).toMatchObject({ lsn: result.firstLsn, sealed: true })
    const report = await verifyLogDirectory(join(out, 'log'), { publicKey: keys.publicJwk, snapshotsDir })
    expect(report.problems).toEqual([])
    expect(report.snapshots).toMatchObject({ files: 1, sealed: 1, unsealed: [], signaturesChecked: true, baseCheckedBy: file })
    expect((await replayVerify(out)).code).toBe(0)
  })

  test('a seal sent with the snapshot that signs another digest: BACKUP_SNAPSHOT_INVALID, nothing copied, nothing left', async () => {
    const keys = await testKeys()
    let leaderUrl = ''
    let passing = false
    // The leader's answer, its seal header replaced by one its key signed over another content digest (a state edited
    // with its digest recomputed carries such a seal): dropped, the edited base would pass as merely unsealed.
    const { url } = await sealedLeader(8102, keys, (request) => {
      if (request.pathname !== '/replication/snapshot' || passing) return undefined
      passing = true
      return (async () => {
        try {
          const answer = await fetch(`${leaderUrl}/replication/snapshot`, { headers: standbyRequestHeaders(TOKEN) })
          const bytes = new Uint8Array(await answer.arrayBuffer())
          const headers = new Headers(answer.headers)
          expect(headers.get(SNAPSHOT_HEADERS.seal)).not.toBeNull()
          const { header } = decodeSnapshot(bytes)
          headers.set(SNAPSHOT_HEADERS.seal, await signSnapshotSeal({ lsn: header.lsn, chainHead: header.chainHead, digest: 'ab'.repeat(32), epoch: 1, sealedAtMs: 0 }, keys.signer))
          return new Response(bytes, { status: answer.status, headers })
        } finally {
          passing = false
        }
      })()
    })
    leaderUrl = url
    const { parent, out } = outDir(cleanups)
    const refused = await backup(['--from', url, '--out', out])
    expect(refused.code).toBe(65)
    expect(refused.result).toMatchObject({ ok: false, code: 'BACKUP_SNAPSHOT_INVALID' })
    expect(String(refused.result.message)).toContain('came with a seal that does not hold: the seal signs content digest abab')
    nothingLeft(parent)
  })

  test('the leader passes over a snapshot whose seal does not hold and serves the older sealed one; a standby installs it with its seal', async () => {
    const keys = await testKeys()
    const { world, url } = await sealedLeader(8103, keys)
    expect(await world.gateway.snapshot()).not.toBeNull()
    const snapshotsDir = join(world.dir, 'snapshots')
    const [older, newer] = snapshotFiles(snapshotsDir) as [string, string]
    // The newest's seal replaced by the older one's: it signs another LSN (its start would refuse it: SEAL_INVALID).
    writeFileSync(join(snapshotsDir, `${newer}.seal`), readFileSync(join(snapshotsDir, `${older}.seal`)))
    const access = { leaderUrl: url, token: TOKEN, timeoutMs: 5_000 }
    const served = await fetchLeaderSnapshot({ ...access, bytesMax: 1 << 30 })
    expect(served.lsn).toBe(Number(older.slice('snapshot-'.length, -'.snap'.length)))
    expect(served.seal).toBe(JSON.parse(readFileSync(join(snapshotsDir, `${older}.seal`), 'utf8')).jws)
    const dir = tempDataDir()
    cleanups.push(() => removeDir(dir))
    await installLeaderSnapshot(dir, served, { ...access, envelopeBytesMax: 1 << 22, keep: 3, previousLastLsn: 0 })
    expect(readFileSync(join(dir, 'snapshots', `${older}.seal`), 'utf8')).toBe(readFileSync(join(snapshotsDir, `${older}.seal`), 'utf8'))
    const report = await verifyLogDirectory(join(dir, 'log'), { publicKey: keys.publicJwk, snapshotsDir: join(dir, 'snapshots') })
    expect(report.problems).toEqual([])
    expect(report.snapshots?.baseCheckedBy).toBe(older)
  })
})

describe('a standby on the pair\'s audit config, holding the seal key', () => {
  test('seals the snapshots it takes: the chain head at the LSN from its log, the frame\'s epoch, verified with the key', async () => {
    const keys = await testKeys()
    const { world, url } = await sealedLeader(8104, keys)
    const dir = tempDataDir()
    cleanups.push(() => removeDir(dir))
    const errors: string[] = []
    // The leader's options (its audit config among them), as both nodes of a pair run on one config.
    const standby = await Gateway.start({ ...recoveringStandbyOptions(world, dir, errors), snapshots: { keep: 2, atShutdown: false } })
    cleanups.push(() => standby.stop())
    const pulling = replicator(standby.engine.wal, () => url)
    pulling.start()
    cleanups.push(() => pulling.stop())
    await run(world, 200)
    await waitFor(() => standby.engine.state.lastLsn === world.gateway.engine.state.lastLsn, 5_000, 'the standby caught up')
    const taken = await standby.snapshot()
    expect(taken).not.toBeNull()
    const standbySnapshots = join(dir, 'snapshots')
    const file = taken?.file as string
    expect(existsSync(join(standbySnapshots, `${file}.seal`))).toBe(true)
    const verdicts = await sealVerdicts(new SnapshotStore(standbySnapshots, { io: nodeIo, keep: 100 }), await keyResolverFromJwk(keys.publicJwk))
    const verdict = verdicts.get(file)
    if (verdict === undefined || !verdict.ok) throw new Error(`the standby's seal does not hold: ${JSON.stringify(verdict)}`)
    expect(verdict.value.claims).toMatchObject({ lsn: taken?.lsn, digest: taken?.digest, epoch: world.gateway.engine.wal.epoch })
    await standby.stop()
    const report = await verifyLogDirectory(join(dir, 'log'), { publicKey: keys.publicJwk, snapshotsDir: standbySnapshots })
    expect(report.problems).toEqual([])
    expect(report.snapshots).toMatchObject({ files: 1, sealed: 1, unsealed: [], headsChecked: 1 })
    expect(errors).toEqual([])
  })
})
