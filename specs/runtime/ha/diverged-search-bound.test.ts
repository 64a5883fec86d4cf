/**
 * A standby told DIVERGED reads the leader's chain hashes (GET /replication/hash) within a bound, as every other
 * answer of a replication read (src/runtime/ha/answer-text.ts). `response.json()` read the body whole, bounded only by
 * the request's timeout: a leader URL answering 200 with a body of any length (a proxy, a wrong port, a broken leader)
 * was held in memory for as long as it kept coming. Now at most HASH_ANSWER_BYTES_MAX bytes are read, and a longer
 * answer is a failed one (COMMON_LSN_UNKNOWN, ANSWER_TOO_LARGE): nothing changed, the node follows again and asks anew.
 */

import { afterEach, expect, test } from 'bun:test'
import { toHex, Wal } from '../../../wal/index.ts'
import { DivergedPrefixError } from '../../../src/runtime/ha/diverged-prefix.ts'
import { commonLsnWithLeader, HASH_ANSWER_BYTES_MAX } from '../../../src/runtime/ha/divergence.ts'
import { record, removeTempDirs, tempDir } from '../../wal/support.ts'

const stops: (() => void)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0)) stop()
  removeTempDirs()
})

const LAST_LSN = 3
const BODY_BYTES = 64 * 1024 * 1024

/** A log of LAST_LSN records and its chain hash at each LSN. */
async function logWithHashes(): Promise<{ wal: Wal; hashes: Map<number, string> }> {
  const wal = Wal.open(tempDir('diverged-search-bound'), { durability: 'none' })
  stops.push(() => void wal.close())
  for (let lsn = 1; lsn <= LAST_LSN; lsn++) await wal.append([record(`record ${lsn}`)])
  const hashes = new Map<number, string>()
  for (const frame of wal.read(1)) hashes.set(frame.lsn, toHex(frame.hash))
  return { wal, hashes }
}

/** A leader answering each chain hash with `body` (its bytes given as they are read); counts the bytes it gave. */
function fakeLeader(body: (lsn: number) => ReadableStream<Uint8Array> | string): { url: string } {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => new Response(body(Number(new URL(request.url).searchParams.get('lsn'))), { headers: { 'content-type': 'application/json' } }),
  })
  stops.push(() => void server.stop(true))
  return { url: `http://127.0.0.1:${server.port}` }
}

/** The leader's answer for `hash`, padded (in a field the search ignores) to `bytes` bytes. */
function answerOf(lsn: number, hash: string, bytes: number): string {
  const bare = JSON.stringify({ lsn, hash, last_lsn: LAST_LSN, pad: '' })
  return JSON.stringify({ lsn, hash, last_lsn: LAST_LSN, pad: 'A'.repeat(bytes - bare.length) })
}

test('an answer of 64 MiB (valid JSON, the right hash) is refused after the bound, not read whole', async () => {
  const { wal, hashes } = await logWithHashes()
  let given = 0
  const leader = fakeLeader((lsn) => {
    const head = new TextEncoder().encode(`{"lsn":${lsn},"hash":"${hashes.get(lsn)}","last_lsn":${LAST_LSN},"pad":"`)
    const chunk = new Uint8Array(64 * 1024).fill(0x41)
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        controller.enqueue(head)
        given += head.byteLength
      },
      pull: (controller) => {
        if (given >= BODY_BYTES) {
          controller.enqueue(new TextEncoder().encode('"}'))
          controller.close()
          return
        }
        controller.enqueue(chunk)
        given += chunk.byteLength
      },
    })
  })
  const search = commonLsnWithLeader(wal, { url: leader.url, token: 'token', timeoutMs: 30_000 })
  const error = await search.then(
    (lsn) => new Error(`the search ended at LSN ${lsn}, having read ${given} bytes`),
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(DivergedPrefixError)
  expect((error as DivergedPrefixError).code).toBe('COMMON_LSN_UNKNOWN')
  expect((error as Error).message).toContain(`ANSWER_TOO_LARGE: the answer is longer than ${HASH_ANSWER_BYTES_MAX} bytes`)
  // What the leader gave before the body was cancelled: the bound and what the sockets' buffers took, not 64 MiB.
  expect(given).toBeLessThan(BODY_BYTES / 4)
})

test('an answer of exactly the bound is read and used; one byte more is refused', async () => {
  const { wal, hashes } = await logWithHashes()
  const fits = fakeLeader((lsn) => answerOf(lsn, hashes.get(lsn) as string, HASH_ANSWER_BYTES_MAX))
  expect(await commonLsnWithLeader(wal, { url: fits.url, token: 'token', timeoutMs: 5_000 })).toBe(LAST_LSN)
  const over = fakeLeader((lsn) => answerOf(lsn, hashes.get(lsn) as string, HASH_ANSWER_BYTES_MAX + 1))
  const error = await commonLsnWithLeader(wal, { url: over.url, token: 'token', timeoutMs: 5_000 }).catch((thrown: unknown) => thrown)
  expect(error).toBeInstanceOf(DivergedPrefixError)
  expect((error as Error).message).toContain('ANSWER_TOO_LARGE')
})
