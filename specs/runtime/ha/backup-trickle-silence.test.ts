/**
 * `egress backup`'s pull (src/runtime/ha/pull-frames.ts, timeout 'silence') restarts its timer on a whole envelope (a
 * heartbeat at least), not on any bytes, as a standby's replicator does: a leader trickling an envelope a byte at a
 * time, or bytes that never make one, held the backup for as long as it trickled. Now it fails BACKUP_SOURCE_FAILED
 * after --timeout-ms without a whole envelope.
 */

import { afterEach, expect, test } from 'bun:test'
import { BackupError, takeBackup } from '../../../src/runtime/backup/index.ts'
import { nothingLeft, outDir } from './backup-support.ts'
import { TOKEN } from './support.ts'
import { tricklingStream } from './trickling-stream.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A source whose log ends at LSN 5 and whose stream trickles (trickling-stream.ts). */
function tricklingSource(): string {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    fetch(request) {
      const path = new URL(request.url).pathname
      if (path === '/replication/hash') return Response.json({ lsn: 0, hash: '00'.repeat(32), last_lsn: 5 })
      if (path === '/replication/stream') return tricklingStream(request.signal)
      return new Response('not here', { status: 500 })
    },
  })
  cleanups.push(() => server.stop(true))
  return `http://127.0.0.1:${server.port}`
}

test('a source trickling bytes that never make an envelope: BACKUP_SOURCE_FAILED after --timeout-ms, nothing left', async () => {
  const fromUrl = tricklingSource()
  const { parent, out } = outDir(cleanups)
  // Without the fix the backup waits as long as the source trickles: stopped here after 3 s (BACKUP_INTERRUPTED).
  const stop = new AbortController()
  const stopTimer = setTimeout(() => stop.abort(), 3_000)
  cleanups.push(() => clearTimeout(stopTimer))
  const startedAt = performance.now()
  const failure = await takeBackup({
    fromUrl, out, token: TOKEN, toLsn: null, wholeLog: true, timeoutMs: 300, snapshotBytesMax: 1024 * 1024, envelopeBytesMax: 1024 * 1024,
    log: () => {}, signal: stop.signal,
  }).then(() => null, (error: unknown) => error)
  expect(failure).toBeInstanceOf(BackupError)
  expect({ code: (failure as BackupError).code, message: (failure as BackupError).message }).toEqual({
    code: 'BACKUP_SOURCE_FAILED',
    message: `the source failed: no envelope from ${fromUrl} for 300 ms`,
  })
  expect(performance.now() - startedAt).toBeLessThan(2_000)
  nothingLeft(parent)
})
