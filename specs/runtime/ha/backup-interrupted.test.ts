/**
 * `egress backup` stopped by a signal (its AbortSignal, as the CLI's SIGINT/SIGTERM/SIGHUP abort it) at any step:
 * BACKUP_INTERRUPTED, nothing left beside DIR. Stopped while it asked the source where its log ends, it said
 * BACKUP_SOURCE_FAILED ("The operation was aborted"), blaming a source that had done nothing wrong.
 */

import { afterEach, expect, test } from 'bun:test'
import { BackupError, takeBackup } from '../../../src/runtime/backup/index.ts'
import { nothingLeft, outDir } from './backup-support.ts'
import { TOKEN } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A source that answers where its log ends (unless `stallAt` is that route) and never answers `stallAt`. */
function stallingSource(stallAt: '/replication/hash' | '/replication/snapshot'): string {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    fetch(request) {
      const path = new URL(request.url).pathname
      if (path === stallAt) return new Promise<Response>(() => {})
      if (path === '/replication/hash') return Response.json({ lsn: 0, hash: '00'.repeat(32), last_lsn: 5 })
      return new Response('not here', { status: 500 })
    },
  })
  cleanups.push(() => server.stop(true))
  return `http://127.0.0.1:${server.port}`
}

test.each(['/replication/hash', '/replication/snapshot'] as const)('a signal while the source is asked %s: BACKUP_INTERRUPTED, nothing left', async (stallAt) => {
  const fromUrl = stallingSource(stallAt)
  const { parent, out } = outDir(cleanups)
  const stop = new AbortController()
  setTimeout(() => stop.abort(), 200)
  const failure = await takeBackup({
    fromUrl, out, token: TOKEN, toLsn: null, wholeLog: false, timeoutMs: 30_000, snapshotBytesMax: 1024 * 1024, envelopeBytesMax: 1024 * 1024,
    log: () => {}, signal: stop.signal,
  }).then(() => null, (error: unknown) => error)
  expect(failure).toBeInstanceOf(BackupError)
  expect((failure as BackupError).code).toBe('BACKUP_INTERRUPTED')
  nothingLeft(parent)
})
