/**
 * `egress backup` of a leader that compacts while the backup runs (src/runtime/backup/compaction-race.ts): past the
 * fetched snapshot before the stream starts (RESYNC_REQUIRED) or during it (a gap in the stream, confirmed by asking
 * again), the copy starts over once from the leader's newest snapshot; a leader that keeps compacting is
 * BACKUP_SOURCE_COMPACTING, not a corrupt frame, and leaves no DIR. --to-lsn is never told to drop a --whole-log it
 * did not give.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { toHex, type Wal } from '../../../wal/index.ts'
import { chainHashAt, encodeEnvelope, standbyRequestHeaders } from '../../../src/runtime/ha/index.ts'
import type { World } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { backup, framesOf, nothingLeft, outDir, replayVerify, streamAnswer } from './backup-support.ts'
import { compactingLeader, tradeUntilCompacted } from './compacting-leader.ts'
import { TOKEN } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A compacting leader whose stream requests `serve` may answer itself (`next` passes one to the leader as it is);
 * unless `compacted` is false, its snapshots are taken and its log compacted before the spec's backup.
 */
async function leaderServing(
  seed: number,
  serve: (request: URL, world: World, next: () => Promise<Response>) => Promise<Response> | undefined,
  compacted = true,
): Promise<{ world: World; url: string; streams: () => number }> {
  let leader: { world: World; url: string } | null = null
  let passing = false
  let streams = 0
  const next = async (request: URL): Promise<Response> => {
    passing = true
    try {
      const answer = await fetch(`${leader?.url}${request.pathname}${request.search}`, { headers: standbyRequestHeaders(TOKEN) })
      // Only refusals are passed this way: a stream that is served would never end.
      if (answer.ok) throw new Error(`the leader served the stream from ${request.searchParams.get('from_lsn')}: it did not compact past it`)
      return new Response(await answer.arrayBuffer(), { status: answer.status, headers: answer.headers })
    } finally {
      passing = false
    }
  }
  leader = await compactingLeader(seed, cleanups, {
    intercept: (request) => {
      if (request.pathname !== '/replication/stream' || passing || leader === null) return undefined
      streams += 1
      return serve(request, leader.world, () => next(request))
    },
  })
  if (compacted) await tradeUntilCompacted(leader.world, 1, seed)
  // Records past the newest snapshot: the backup streams some.
  await trade(leader.world, { orders: 3, tag: 'tail', seed: seed + 50 })
  return { ...leader, streams: () => streams }
}

const fromLsnOf = (request: URL): number => Number(request.searchParams.get('from_lsn'))

describe('egress backup of a leader that compacts during the backup', () => {
  test('compacted past the fetched snapshot before the stream: RESYNC_REQUIRED, one fresh start from its newest snapshot, a verified copy', async () => {
    const { world, url, streams } = await leaderServing(131, (request, traded, next) => {
      if (streams() > 1) return undefined
      return (async () => {
        await tradeUntilCompacted(traded, fromLsnOf(request), 132)
        return next()
      })()
    })
    const { out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out])
    if (run.code !== 0) throw new Error(`backup failed: ${run.stderr}`)
    expect(run.stderr).toContain('while the backup ran; discarding the partial copy and starting again from its newest snapshot')
    expect(streams()).toBe(2)
    const result = run.result as { lastLsn: number; firstLsn: number; snapshot: { lsn: number } | null; chainHead: string }
    expect(result.snapshot?.lsn).toBe(result.firstLsn)
    expect(result.chainHead).toBe(toHex(chainHashAt(world.gateway.engine.wal, result.lastLsn) ?? new Uint8Array(0)))
    expect((await replayVerify(out)).code).toBe(0)
  })

  test('compacted past it during the stream (a frame after a gap, the leader then answering RESYNC_REQUIRED): a race, not corruption: one fresh start, a verified copy', async () => {
    let gapServed = false
    const { url, streams } = await leaderServing(141, (request, traded, _next) => {
      if (streams() > 1) return undefined
      const wal = traded.gateway.engine.wal
      const fromLsn = fromLsnOf(request)
      if (fromLsn + 2 > wal.lastLsn) throw new Error(`the leader holds no records past LSN ${fromLsn + 1} to stream`)
      const before = framesOf(wal, fromLsn, 2)
      return (async () => {
        // The leader's read then resumes at its new first LSN, as wal/reader.ts clamps it.
        await tradeUntilCompacted(traded, fromLsn + 2, 142)
        gapServed = true
        return streamAnswer([encodeEnvelope(before, wal.lastLsn), encodeEnvelope(framesOf(wal, wal.firstLsn, 2), wal.lastLsn)])
      })()
    })
    const { out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out])
    if (run.code !== 0) throw new Error(`backup failed (${String(run.result.code)}): ${run.stderr}`)
    expect(gapServed).toBe(true)
    expect(run.stderr).toContain('starting again from its newest snapshot')
    // The gapped stream, the probe answered RESYNC_REQUIRED, the fresh start's stream.
    expect(streams()).toBe(3)
    expect((await replayVerify(out)).code).toBe(0)
  })

  test('compacted past it during the stream, the leader ending the stream there (src/runtime/ha/stream.ts), then answering RESYNC_REQUIRED: a race too: one fresh start, a verified copy', async () => {
    let endServed = false
    const { url, streams } = await leaderServing(151, (request, traded, _next) => {
      if (streams() > 1) return undefined
      const wal = traded.gateway.engine.wal
      const fromLsn = fromLsnOf(request)
      if (fromLsn + 2 > wal.lastLsn) throw new Error(`the leader holds no records past LSN ${fromLsn + 1} to stream`)
      const before = framesOf(wal, fromLsn, 2)
      return (async () => {
        await tradeUntilCompacted(traded, fromLsn + 2, 152)
        endServed = true
        return streamAnswer([encodeEnvelope(before, wal.lastLsn)])
      })()
    })
    const { out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out])
    if (run.code !== 0) throw new Error(`backup failed (${String(run.result.code)}): ${run.stderr}`)
    expect(endServed).toBe(true)
    expect(run.stderr).toContain('starting again from its newest snapshot')
    // The ended stream, the probe answered RESYNC_REQUIRED, the fresh start's stream.
    expect(streams()).toBe(3)
    expect((await replayVerify(out)).code).toBe(0)
  })

  test('a leader that keeps compacting past each snapshot fetched: BACKUP_SOURCE_COMPACTING after one fresh start, exit 1, no DIR', async () => {
    const { url, streams } = await leaderServing(151, (request, traded, next) => (async () => {
      await tradeUntilCompacted(traded, fromLsnOf(request), 152 + streams() * 20)
      return next()
    })())
    const { parent, out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out])
    expect({ code: run.code, error: run.result.code }).toEqual({ code: 1, error: 'BACKUP_SOURCE_COMPACTING' })
    expect(String(run.result.message)).toContain('nothing is corrupt; run the backup again')
    expect(streams()).toBe(2)
    nothingLeft(parent)
  })

  test('a gap the leader does not confirm (it still holds the records): still BACKUP_FRAME_REFUSED (LSN_GAP), exit 65, no DIR — also when the frames after it lie past the end (refused, never dropped and waited on)', async () => {
    let resumeAt = (wal: Wal): number => wal.lastLsn
    const { world, url } = await leaderServing(161, (request, traded, _next) => {
      const wal = traded.gateway.engine.wal
      // Not the first request only: the probe is answered by the leader itself, which still holds every record.
      if (fromLsnOf(request) !== 1) return undefined
      return Promise.resolve(streamAnswer([encodeEnvelope(framesOf(wal, 1, 2), wal.lastLsn), encodeEnvelope(framesOf(wal, resumeAt(wal), 2), wal.lastLsn)]))
    }, false)
    expect(world.gateway.engine.wal.lastLsn).toBeGreaterThan(30)
    for (const [toLsn, resume] of [[20, () => 4], [3, (wal: Wal) => wal.lastLsn - 1]] as const) {
      resumeAt = resume
      const { parent, out } = outDir(cleanups)
      const run = await backup(['--from', url, '--out', out, '--whole-log', '--to-lsn', String(toLsn)])
      expect({ toLsn, code: run.code, error: run.result.code }).toEqual({ toLsn, code: 65, error: 'BACKUP_FRAME_REFUSED' })
      expect(String(run.result.message)).toContain('LSN_GAP (expected LSN 3)')
      nothingLeft(parent)
    }
  })

  test('--to-lsn before a compacted leader\'s snapshot: BACKUP_RANGE_UNAVAILABLE, and no word of a --whole-log not given', async () => {
    const { world, url } = await leaderServing(171, () => undefined)
    expect(world.gateway.engine.wal.firstLsn).toBeGreaterThan(6)
    const { parent, out } = outDir(cleanups)
    const run = await backup(['--from', url, '--out', out, '--to-lsn', '5'])
    expect({ code: run.code, error: run.result.code }).toEqual({ code: 1, error: 'BACKUP_RANGE_UNAVAILABLE' })
    expect(String(run.result.message)).not.toContain('--whole-log')
    expect(String(run.result.message)).toContain('back up without --to-lsn, or with a --to-lsn at or after')
    nothingLeft(parent)
  })
})
