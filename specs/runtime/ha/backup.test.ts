/**
 * `egress backup --from URL --out DIR` (src/runtime/backup/): a consistent, verified copy of a running leader's data
 * over its replication routes, which never acknowledges, a standby then starts from and follows; and what it refuses,
 * leaving no DIR: a non-empty --out, a source that dies mid-stream, a corrupted frame.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { frameContinues, nodeIo, rawFrameBytes, toHex, type Wal } from '../../../wal/index.ts'
import { runCli } from '../../../src/cli/index.ts'
import { chainHashAt, HaNode } from '../../../src/runtime/ha/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { recordingIo } from '../../cli/io.ts'
import { removeDir, startWorld, type World } from '../harness.ts'
import { backup, nothingLeft, outDir, replayVerify, streamOf } from './backup-support.ts'
import { trade } from '../snapshot/support.ts'
import { compactingLeader, recoveringStandby, recoveringStandbyOptions, tradeUntilCompacted } from './compacting-leader.ts'
import { haHttp, replicator, serveReplication, TOKEN, waitFor } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('egress backup of a running leader', () => {
  test('under load: the copy passes replay-verify, holds the leader\'s log through its end, was never acknowledged, and a standby starts from it and follows', async () => {
    const paths: string[] = []
    const { world, url } = await compactingLeader(61, cleanups, { intercept: (request) => void paths.push(request.pathname) })
    await trade(world, { orders: 30, tag: 'before', seed: 61 })
    await world.gateway.snapshotter.idle()
    const ordersBefore = [...world.gateway.engine.state.orders.keys()]
    const lastLsnBefore = world.gateway.engine.wal.lastLsn
    expect(ordersBefore.length).toBeGreaterThan(10)
    const { parent, out } = outDir(cleanups)
    // The leader keeps trading while the backup runs.
    const [run] = await Promise.all([backup(['--from', url, '--out', out]), trade(world, { orders: 10, tag: 'during', seed: 62 })])
    if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
    const result = run.result as { ok: boolean; verified: boolean; firstLsn: number; lastLsn: number; leaderLastLsnAtStart: number; snapshot: { lsn: number } | null; chainHead: string; bytesReceived: number }
    expect(result).toMatchObject({ ok: true, verified: true })
    expect(result.lastLsn).toBeGreaterThanOrEqual(lastLsnBefore)
    expect(result.snapshot).not.toBeNull()
    // The end read at the start, or the snapshot's LSN when the leader took it after that read (it keeps trading).
    expect(result.lastLsn).toBe(Math.max(result.leaderLastLsnAtStart, result.snapshot?.lsn ?? 0))
    expect(result.firstLsn).toBe(result.snapshot?.lsn ?? -1)
    expect(result.bytesReceived).toBeGreaterThan(0)
    // Exactly the leader's log through the end: the same chain head there (so every record up to it, every order
    // acknowledged before it among them).
    expect(result.chainHead).toBe(toHex(chainHashAt(world.gateway.engine.wal, result.lastLsn) ?? new Uint8Array(0)))
    expect(readdirSync(parent)).toEqual(['backup'])
    const verified = await replayVerify(out)
    expect(verified.out).toContain('MATCH')
    expect(verified.code).toBe(0)
    // A copy, not a standby: no acknowledgement, nothing but reads.
    expect(paths.filter((path) => path === '/replication/ack')).toEqual([])
    expect(new Set(paths)).toEqual(new Set(['/replication/hash', '/replication/snapshot', '/replication/stream']))
    // A standby gateway starts from it (the snapshot, then the log after it) with every order from before the backup,
    // and follows the leader from where the copy ends.
    const errors: string[] = []
    const standby = await Gateway.start(recoveringStandbyOptions(world, out, errors))
    cleanups.push(() => standby.stop())
    expect(standby.restoreReport?.snapshot?.lsn).toBe(result.snapshot?.lsn)
    for (const orderId of ordersBefore) expect(standby.engine.state.orders.has(orderId)).toBe(true)
    const following = replicator(standby.engine.wal, () => url)
    following.start()
    cleanups.push(() => following.stop())
    await waitFor(() => standby.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 10_000, 'the restored standby caught up')
    expect(toHex(standby.engine.wal.chainHead)).toBe(toHex(world.gateway.engine.wal.chainHead))
    expect(errors).toEqual([])
  })

  test('a snapshot the leader takes after the backup read its log end (the race under load): the copy ends at the snapshot or after it, never falls back to a compacted LSN 1', async () => {
    let leaderWorld: World | null = null
    let answered = false
    const { world, url } = await compactingLeader(63, cleanups, {
      intercept: (request) => {
        if (request.pathname !== '/replication/hash' || answered || leaderWorld === null) return undefined
        answered = true
        const traded = leaderWorld
        // The log's end as the backup reads it; the leader then snapshots (and compacts) past it before the snapshot fetch.
        const endLsn = traded.gateway.engine.wal.lastLsn
        const snapshotsDir = join(traded.dir, 'snapshots')
        const newest = (): number => new SnapshotStore(snapshotsDir, { io: nodeIo, keep: 2 }).candidates()[0]?.lsn ?? 0
        return (async () => {
          for (let round = 0; newest() <= endLsn; round++) {
            if (round > 10) throw new Error('the leader took no snapshot past the backup\'s end')
            await trade(traded, { orders: 30, tag: `race${round}`, seed: 630 + round })
            await traded.gateway.snapshotter.idle()
          }
          return Response.json({ lsn: 0, hash: toHex(new Uint8Array(32)), last_lsn: endLsn })
        })()
      },
    })
    await tradeUntilCompacted(world, 1, 63)
    leaderWorld = world
    const { out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out])
    if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
    const result = run.result as { lastLsn: number; leaderLastLsnAtStart: number; snapshot: { lsn: number } | null; chainHead: string }
    expect(result.snapshot).not.toBeNull()
    expect(result.lastLsn).toBeGreaterThanOrEqual(result.snapshot?.lsn ?? Number.POSITIVE_INFINITY)
    expect(result.lastLsn).toBeGreaterThan(result.leaderLastLsnAtStart)
    expect(result.chainHead).toBe(toHex(chainHashAt(world.gateway.engine.wal, result.lastLsn) ?? new Uint8Array(0)))
    expect((await replayVerify(out)).code).toBe(0)
  })

  test('an HA standby node started on the copy restores from it and follows the leader from where the copy ends, no re-sync', async () => {
    const { world, url } = await compactingLeader(65, cleanups)
    await trade(world, { orders: 30, tag: 'h', seed: 65 })
    await world.gateway.snapshotter.idle()
    const { out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out])
    if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
    const backedUp = run.result as { lastLsn: number; snapshot: { lsn: number } | null }
    expect(backedUp.snapshot).not.toBeNull()
    await trade(world, { orders: 5, tag: 'h-after', seed: 66 })
    // The node's own options, its data dir swapped for the copy.
    const { options, errors, logLines } = recoveringStandby(world, url, cleanups)
    const node = new HaNode({
      ...options,
      dataDir: out,
      startGateway: async (role) => Gateway.start({ ...recoveringStandbyOptions(world, out, errors), role }),
    })
    cleanups.push(() => node.stop())
    await node.start()
    await waitFor(() => node.gateway?.engine.wal.lastLsn === world.gateway.engine.wal.lastLsn, 10_000, 'the node on the copy caught up')
    expect(node.gateway?.restoreReport?.snapshot?.lsn).toBe(backedUp.snapshot?.lsn ?? -1)
    expect(node.gateway?.engine.wal.firstLsn).toBe(backedUp.snapshot?.lsn ?? -1)
    expect(node.lastSnapshotRecovery).toBeNull()
    expect(toHex(node.gateway?.engine.wal.chainHead ?? new Uint8Array(0))).toBe(toHex(world.gateway.engine.wal.chainHead))
    expect({ errors, diverged: logLines.filter((line) => /DIVERGED|RESYNC/.test(line)) }).toEqual({ errors: [], diverged: [] })
  })

  test('--whole-log and --to-lsn, asked of a standby: the leader\'s log from LSN 1 to the end of the decision holding the LSN asked for, no snapshot', async () => {
    const { world, url } = await compactingLeader(71, cleanups)
    await trade(world, { orders: 3, tag: 'w', seed: 71 })
    expect(world.gateway.engine.wal.firstLsn).toBe(1)
    const { out } = outDir(cleanups)
    const toLsn = Math.floor(world.gateway.engine.wal.lastLsn / 2)
    // Asked of a standby (replication is the leader's only: it answers NOT_LEADER naming the leader), copied from the leader.
    const standby = serveReplication(() => world.gateway.engine.wal, haHttp({ isLeader: () => false, leaderUrl: () => url }))
    cleanups.push(() => standby.stop())
    const run = await backup(['--from', `${standby.url}/`, '--out', out, '--whole-log', '--to-lsn', String(toLsn)])
    if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
    const result = run.result as { firstLsn: number; lastLsn: number; snapshot: unknown; source: string }
    expect(result.source).toBe(url)
    expect(run.stderr).toContain(`${standby.url} is not the leader`)
    expect(result.firstLsn).toBe(1)
    expect(result.snapshot).toBeNull()
    expect(result.lastLsn).toBeGreaterThanOrEqual(toLsn)
    expect(result.lastLsn).toBeLessThan(world.gateway.engine.wal.lastLsn)
    expect((await replayVerify(out)).code).toBe(0)
    // Beyond the leader's end: refused before anything is written.
    const { parent: parentBeyond, out: beyond } = outDir(cleanups)
    const refused = await backup(['--from', url, '--out', beyond, '--to-lsn', String(world.gateway.engine.wal.lastLsn + 1_000)])
    expect({ code: refused.code, error: refused.result.code }).toEqual({ code: 1, error: 'BACKUP_TO_LSN_BEYOND_LOG' })
    nothingLeft(parentBeyond)
    // Once the leader has compacted, the whole log is no longer there to copy.
    await tradeUntilCompacted(world, 1, 72)
    const { parent: parentCompacted, out: compacted } = outDir(cleanups)
    const gone = await backup(['--from', url, '--out', compacted, '--whole-log'])
    expect({ code: gone.code, error: gone.result.code }).toEqual({ code: 1, error: 'BACKUP_RANGE_UNAVAILABLE' })
    expect(String(gone.result.message)).toContain('the leader has compacted its log below the records needed; back up without --whole-log or a --to-lsn before its snapshot')
    nothingLeft(parentCompacted)
  })
})

describe('egress backup --to-lsn inside an append without a command record', () => {
  test('ends at the end of that append, where the frames\' append flag says it ends (the copy opens whole)', async () => {
    // A single node's log: no command records; a place's decision is several frames in one append.
    const world = await startWorld({ seed: 73 })
    cleanups.push(async () => {
      await world.gateway.stop()
      removeDir(world.dir)
    })
    await trade(world, { orders: 3, tag: 'a', seed: 73 })
    const wal = world.gateway.engine.wal
    const server = serveReplication(() => wal, haHttp({ chunkBytesMax: 200 }))
    cleanups.push(() => server.stop())
    const frames = Array.from(wal.read(1), (frame) => ({ lsn: frame.lsn, continues: frameContinues(rawFrameBytes(frame)) }))
    const inside = frames.find((frame) => frame.continues && frame.lsn > 5)
    if (inside === undefined) throw new Error('no append of several frames in the log')
    const appendEnd = frames.find((frame) => frame.lsn > inside.lsn && !frame.continues)?.lsn as number
    const { out } = outDir(cleanups)
    const run = await backup(['--from', server.url, '--out', out, '--whole-log', '--to-lsn', String(inside.lsn)])
    if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
    expect((run.result as { lastLsn: number }).lastLsn).toBe(appendEnd)
    expect((await replayVerify(out)).code).toBe(0)
  })
})

describe('egress backup refuses, leaving no DIR', () => {
  test('a non-empty --out (or a file there): BACKUP_OUT_NOT_EMPTY, exit 1, nothing written', async () => {
    const { world, url } = await compactingLeader(81, cleanups)
    await trade(world, { orders: 3, tag: 'n', seed: 81 })
    const { parent, out } = outDir(cleanups)
    mkdirSync(out)
    writeFileSync(join(out, 'keep.txt'), 'mine')
    const run = await backup(['--from', url, '--out', out])
    expect({ code: run.code, error: run.result.code, ok: run.result.ok }).toEqual({ code: 1, error: 'BACKUP_OUT_NOT_EMPTY', ok: false })
    expect(run.stderr).toContain('BACKUP_OUT_NOT_EMPTY')
    expect(readdirSync(parent)).toEqual(['backup'])
    expect(readdirSync(out)).toEqual(['keep.txt'])
    const file = join(parent, 'file')
    writeFileSync(file, 'x')
    expect((await backup(['--from', url, '--out', file])).result.code).toBe('BACKUP_OUT_NOT_EMPTY')
    // A symbolic link to an empty directory cannot be renamed onto: refused before any copy (review: the whole copy was
    // made and verified, then the rename failed, exit 74).
    const empty = join(parent, 'empty')
    mkdirSync(empty)
    const link = join(parent, 'link')
    symlinkSync(empty, link)
    expect((await backup(['--from', url, '--out', link])).result.code).toBe('BACKUP_OUT_UNUSABLE')
    expect(readdirSync(parent).sort()).toEqual(['backup', 'empty', 'file', 'link'])
    // An empty directory is taken (and replaced by the copy).
    const taken = await backup(['--from', url, '--out', empty])
    expect({ code: taken.code, ok: taken.result.ok }).toEqual({ code: 0, ok: true })
    expect(readdirSync(empty).sort()).toContain('log')
  })

  test('a source that dies mid-stream: BACKUP_SOURCE_FAILED, exit 1, no DIR and no build directory left', async () => {
    let leaderWal: Wal | null = null
    const { world, url } = await compactingLeader(91, cleanups, {
      intercept: (request) => {
        if (request.pathname !== '/replication/stream' || leaderWal === null) return undefined
        return streamOf(leaderWal, Number(request.searchParams.get('from_lsn')), 3, 'cut')
      },
    })
    leaderWal = world.gateway.engine.wal
    await trade(world, { orders: 5, tag: 'd', seed: 91 })
    for (const args of [['--whole-log'], []]) {
      const { parent, out } = outDir(cleanups)
      const run = await backup(['--from', url, '--out', out, ...args])
      expect({ code: run.code, error: run.result.code }).toEqual({ code: 1, error: 'BACKUP_SOURCE_FAILED' })
      expect(existsSync(out)).toBe(false)
      nothingLeft(parent)
    }
    // A stream that just ends before the backup's end is the same failure.
    const { parent, out } = outDir(cleanups)
    leaderWal = world.gateway.engine.wal
    const closing = await compactingLeader(92, cleanups, {
      intercept: (request) => (request.pathname === '/replication/stream' ? streamOf(world.gateway.engine.wal, 1, 2, 'close') : undefined),
    })
    await trade(closing.world, { orders: 3, tag: 'e', seed: 92 })
    const ended = await backup(['--from', closing.url, '--out', out, '--whole-log', '--to-lsn', String(Math.min(20, closing.world.gateway.engine.wal.lastLsn))])
    expect({ code: ended.code, error: ended.result.code }).toEqual({ code: 1, error: 'BACKUP_SOURCE_FAILED' })
    nothingLeft(parent)
  })

  test('a corrupted frame is refused (its CRC, checked as a standby checks it): BACKUP_FRAME_REFUSED, exit 65, no DIR', async () => {
    let leaderWal: Wal | null = null
    const { world, url } = await compactingLeader(101, cleanups, {
      intercept: (request) => {
        if (request.pathname !== '/replication/stream' || leaderWal === null) return undefined
        // One flipped bit in the last frame's payload.
        return streamOf(leaderWal, Number(request.searchParams.get('from_lsn')), 4, 'close', (frames) => {
          const at = frames.byteLength - 1
          frames[at] = (frames[at] ?? 0) ^ 0x01
        })
      },
    })
    leaderWal = world.gateway.engine.wal
    await trade(world, { orders: 5, tag: 'c', seed: 101 })
    const { parent, out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out, '--whole-log'])
    expect({ code: run.code, error: run.result.code }).toEqual({ code: 65, error: 'BACKUP_FRAME_REFUSED' })
    expect(String(run.result.message)).toContain('FRAME_CORRUPT')
    nothingLeft(parent)
  })

  test('a refusal with an endless body: only its start is read (BACKUP_SOURCE_REFUSED at once, not the timeout)', async () => {
    const endless = (): Response => new Response(new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x41))
      },
    }), { status: 500 })
    const { world, url } = await compactingLeader(111, cleanups, { intercept: (request) => (request.pathname === '/replication/stream' ? endless() : undefined) })
    await trade(world, { orders: 3, tag: 'b', seed: 111 })
    const { parent, out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out, '--whole-log', '--timeout-ms', '3000'])
    expect({ code: run.code, error: run.result.code }).toEqual({ code: 1, error: 'BACKUP_SOURCE_REFUSED' })
    expect(String(run.result.message)).toContain('answered 500: AAAA')
    nothingLeft(parent)
  })

  test('bad usage: no --from, a URL with credentials or a query, no token: exit 2, nothing written', async () => {
    const { parent, out } = outDir(cleanups)
    const usage = async (args: string[], env: Record<string, string> = { EGRESS_REPLICATION_TOKEN: TOKEN }): Promise<number> => runCli(['backup', ...args], recordingIo(env))
    expect(await usage(['--out', out])).toBe(2)
    expect(await usage(['--from', 'http://user:pw@127.0.0.1:1', '--out', out])).toBe(2)
    expect(await usage(['--from', 'http://127.0.0.1:1/?x=1', '--out', out])).toBe(2)
    expect(await usage(['--from', 'ftp://127.0.0.1:1', '--out', out])).toBe(2)
    expect(await usage(['--from', 'http://127.0.0.1:1', '--out', out, '--to-lsn', '0'])).toBe(2)
    expect(await usage(['--from', 'http://127.0.0.1:1', '--out', out], {})).toBe(2)
    nothingLeft(parent)
  })
})
