/**
 * WAL benchmark: durable appends/s of 256-byte records from concurrent producers (group commit), against two
 * baselines measured in the same run on the same disk:
 *   - bun:sqlite, WAL journal, synchronous=FULL, the same records committed in transactions of the WAL's mean batch size;
 *   - a raw write + fdatasync loop writing the same bytes per batch.
 * Plus replay speed: records/s and MB/s with CRC checks only and with full chain verification.
 * Each figure is the median of several alternating rounds (shared, noisy machines). Progress goes to stderr; the
 * last line of stdout is one JSON object.
 *
 * Usage: bun scripts/bench-wal.ts [--seconds 2] [--rounds 3] [--producers 32] [--replay-records 500000]
 */

import { Database } from 'bun:sqlite'
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FRAME_HEADER_BYTES, Wal, type RecordInput } from '../wal/index.ts'
import { median } from './support/figures.ts'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    producers: { type: 'string', default: '32' },
    'replay-records': { type: 'string', default: '500000' },
  },
})
const SECONDS = Number(values.seconds)
const ROUNDS = Number(values.rounds)
const PRODUCERS = Number(values.producers)
const REPLAY_RECORDS = Number(values['replay-records'])
const RECORD_BYTES = 256
const FRAME_BYTES = FRAME_HEADER_BYTES + RECORD_BYTES

const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'egress-bench-wal-'))
const log = (message: string): void => void process.stderr.write(`${message}\n`)

function payload(index: number): Uint8Array {
  const bytes = new Uint8Array(RECORD_BYTES)
  for (let offset = 0; offset < RECORD_BYTES; offset++) bytes[offset] = (index + offset * 31) & 0xff
  return bytes
}

async function benchWal(round: number): Promise<{ recordsPerSec: number; meanBatchRecords: number }> {
  const wal = Wal.open(join(root, `wal-${round}`), { durability: 'fsync' })
  const deadline = performance.now() + SECONDS * 1000
  let count = 0
  const record: RecordInput = { type: 1, version: 1, payload: payload(round) }
  const started = performance.now()
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (performance.now() < deadline) {
        await wal.append([record])
        count++
      }
    }),
  )
  const elapsedSec = (performance.now() - started) / 1000
  const meanBatchRecords = wal.stats.recordCount / wal.stats.batchCount
  await wal.close()
  return { recordsPerSec: count / elapsedSec, meanBatchRecords }
}

function benchSqlite(round: number, batchRecords: number): number {
  const db = new Database(join(root, `sqlite-${round}.db`), { create: true, strict: true })
  db.run('PRAGMA journal_mode = WAL')
  db.run('PRAGMA synchronous = FULL')
  db.run('CREATE TABLE log (lsn INTEGER PRIMARY KEY, type INTEGER, version INTEGER, payload BLOB)')
  const insert = db.prepare('INSERT INTO log (lsn, type, version, payload) VALUES (?, ?, ?, ?)')
  const commitBatch = db.transaction((firstLsn: number, bytes: Uint8Array) => {
    for (let index = 0; index < batchRecords; index++) insert.run(firstLsn + index, 1, 1, bytes)
  })
  const bytes = payload(round)
  const deadline = performance.now() + SECONDS * 1000
  const started = performance.now()
  let count = 0
  while (performance.now() < deadline) {
    commitBatch(count + 1, bytes)
    count += batchRecords
  }
  const elapsedSec = (performance.now() - started) / 1000
  db.close()
  return count / elapsedSec
}

function benchRaw(round: number, batchRecords: number): number {
  const fd = openSync(join(root, `raw-${round}.bin`), 'w')
  const batch = new Uint8Array(batchRecords * FRAME_BYTES).fill(round & 0xff)
  const deadline = performance.now() + SECONDS * 1000
  const started = performance.now()
  let count = 0
  let position = 0
  while (performance.now() < deadline) {
    writeSync(fd, batch, 0, batch.length, position)
    fdatasyncSync(fd)
    position += batch.length
    count += batchRecords
  }
  const elapsedSec = (performance.now() - started) / 1000
  closeSync(fd)
  return count / elapsedSec
}

async function buildReplayLog(): Promise<Wal> {
  const dir = join(root, 'replay')
  const writer = Wal.open(dir, { durability: 'none' })
  const chunk: RecordInput[] = Array.from({ length: 1000 }, (_, index) => ({ type: 1, version: 1, payload: payload(index) }))
  for (let written = 0; written < REPLAY_RECORDS; written += chunk.length) await writer.append(chunk)
  await writer.close()
  return Wal.open(dir, { durability: 'none', verifyChainOnOpen: false })
}

function benchReplay(wal: Wal, verifyChain: boolean): { recordsPerSec: number; mbPerSec: number } {
  const started = performance.now()
  let records = 0
  let bytes = 0
  for (const frame of wal.read(1, { verifyChain })) {
    records++
    bytes += frame.frameBytes
  }
  const elapsedSec = (performance.now() - started) / 1000
  if (records !== wal.lastLsn) throw new Error(`replay read ${records} records, log has ${wal.lastLsn}`)
  return { recordsPerSec: records / elapsedSec, mbPerSec: bytes / 1e6 / elapsedSec }
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000

try {
  const wal: number[] = []
  const sqlite: number[] = []
  const raw: number[] = []
  const batches: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const result = await benchWal(round)
    wal.push(result.recordsPerSec)
    batches.push(result.meanBatchRecords)
    const batchRecords = Math.max(1, Math.round(result.meanBatchRecords))
    sqlite.push(benchSqlite(round, batchRecords))
    raw.push(benchRaw(round, batchRecords))
    log(`round ${round + 1}/${ROUNDS}: wal ${Math.round(wal[round] as number)}/s (mean batch ${batchRecords}), sqlite ${Math.round(sqlite[round] as number)}/s, raw ${Math.round(raw[round] as number)}/s`)
  }
  log(`building a ${REPLAY_RECORDS}-record log for replay…`)
  const replayWal = await buildReplayLog()
  const crc: { recordsPerSec: number; mbPerSec: number }[] = []
  const chain: { recordsPerSec: number; mbPerSec: number }[] = []
  for (let round = 0; round < ROUNDS; round++) {
    crc.push(benchReplay(replayWal, false))
    chain.push(benchReplay(replayWal, true))
    log(`replay round ${round + 1}: CRC ${Math.round(crc[round]?.recordsPerSec ?? 0)} rec/s, chain ${Math.round(chain[round]?.mbPerSec ?? 0)} MB/s`)
  }
  await replayWal.close()
  const walRecordsPerSec = median(wal)
  const sqliteRecordsPerSec = median(sqlite)
  const rawRecordsPerSec = median(raw)
  console.log(
    JSON.stringify({
      bench: 'wal',
      recordBytes: RECORD_BYTES,
      producers: PRODUCERS,
      rounds: ROUNDS,
      meanBatchRecords: round3(median(batches)),
      walRecordsPerSec: Math.round(walRecordsPerSec),
      sqliteRecordsPerSec: Math.round(sqliteRecordsPerSec),
      rawRecordsPerSec: Math.round(rawRecordsPerSec),
      vsSqlite: round3(walRecordsPerSec / sqliteRecordsPerSec),
      vsRaw: round3(walRecordsPerSec / rawRecordsPerSec),
      replayRecordsPerSec: Math.round(median(crc.map((result) => result.recordsPerSec))),
      replayMBPerSec: round3(median(crc.map((result) => result.mbPerSec))),
      verifyRecordsPerSec: Math.round(median(chain.map((result) => result.recordsPerSec))),
      verifyMBPerSec: round3(median(chain.map((result) => result.mbPerSec))),
    }),
  )
} finally {
  rmSync(root, { recursive: true, force: true })
}
