/**
 * A leader serves at most `transfersMax` replication streams at once (REPLICATION_TRANSFERS_MAX by default,
 * src/http/routes/replication.ts): past it 503 UNAVAILABLE with Retry-After, nothing held. Each stream wakes at every
 * commit and reads the log again, so 500 streams opened with the token (a standby reconnecting in a loop without
 * closing its old streams, or any holder of the token) made the leader's writes about 3.5 times slower, without bound.
 * A stream's slot comes back once it ends: cancelled by its reader, or its client gone.
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal, toHex } from '../../../wal/index.ts'
import { REPLICATION_TRANSFERS_MAX } from '../../../src/http/routes/replication.ts'
import { EnvelopeReader, standbyRequestHeaders } from '../../../src/runtime/ha/index.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'
import { TOKEN, haHttp, serveReplication } from './support.ts'

afterEach(removeTempDirs)

/** Opens streams until one is served (a slot came back), within `timeoutMs`. */
async function servedWithin(url: string, wal: Wal, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await openStream(url, wal)
    if (response.status === 200) return response
    if (Date.now() > deadline) throw new Error(`no slot came back within ${timeoutMs} ms (last answer ${response.status})`)
    await Bun.sleep(10)
  }
}

/** Opens a stream from LSN 1 and reads its first envelope (the log's frames): the stream is being served. */
async function openStream(url: string, wal: Wal, signal?: AbortSignal): Promise<Response> {
  const response = await fetch(`${url}/replication/stream?from_lsn=1&head=${toHex(new Uint8Array(32))}`, { headers: standbyRequestHeaders(TOKEN), ...(signal === undefined ? {} : { signal }) })
  if (response.status !== 200 || response.body === null) return response
  const reader = new EnvelopeReader({ envelopeBytesMax: 1024 * 1024 })
  const body = response.body.getReader()
  for (;;) {
    const { value } = await body.read()
    if (value === undefined) throw new Error('the stream ended before its first envelope')
    const envelopes = reader.push(value)
    if (envelopes.length > 0) {
      expect(envelopes[0]?.leaderLastLsn).toBe(wal.lastLsn)
      body.releaseLock()
      return response
    }
  }
}

test('the default bound is a handful: a standby and a backup each hold one stream, and one snapshot download', () => {
  expect(REPLICATION_TRANSFERS_MAX).toBe(8)
})

test('past transfersMax a stream is 503 UNAVAILABLE with Retry-After; a cancelled or abandoned stream frees its slot', async () => {
  const leader = Wal.open(tempDir(), { durability: 'none' })
  await leader.append([record('a'), record('b')])
  const server = serveReplication(() => leader, haHttp({ transfersMax: 2 }))
  const first = await openStream(server.url, leader)
  const gone = new AbortController()
  const second = await openStream(server.url, leader, gone.signal)
  expect([first.status, second.status]).toEqual([200, 200])

  const refused = await openStream(server.url, leader)
  expect(refused.status).toBe(503)
  expect(refused.headers.get('retry-after')).toBe('1')
  expect(await refused.json()).toEqual({
    error: { code: 'UNAVAILABLE', message: 'this leader serves at most 2 replication transfers at once; retry later', details: { reason: 'too_many_replication_transfers', transfers_max: 2 } },
  })

  // A reader that cancels its stream gives its slot back.
  await first.body?.cancel()
  await servedWithin(server.url, leader, 5_000)
  expect((await openStream(server.url, leader)).status).toBe(503)

  // So does a client that goes away.
  gone.abort()
  await servedWithin(server.url, leader, 5_000)
  expect((await openStream(server.url, leader)).status).toBe(503)

  server.stop()
  await leader.close()
})
