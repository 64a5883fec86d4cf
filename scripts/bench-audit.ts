/**
 * Audit verification benchmark: `verifyLogDirectory` (every CRC, the chain re-derived with @noble/hashes, every seal
 * signature) on a log of ≥ 1,000,000 records of 256-byte payloads, sealed every 10,000 records, against a plain read
 * of the same files in the same run (the log engine's read-only open with CRC checks only: openReadOnly, verifyChain
 * false). Also reported, for context: the engine's own chain check with Bun's native SHA-256. Each figure is the
 * median of alternating rounds. Progress goes to stderr; the last line of stdout is one JSON object.
 *
 * Usage: bun scripts/bench-audit.ts [--records 1000000] [--rounds 3]
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { Sealer, verifyLogDirectory } from '../src/audit/index.ts'
import { Wal, openReadOnly, type RecordInput } from '../wal/index.ts'

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } } })
const RECORDS = Number(values.records)
const ROUNDS = Number(values.rounds)
const PAYLOAD_BYTES = 256
const SEAL_EVERY_RECORDS = 10_000
const APPEND_BATCH_RECORDS = 1_000

const log = (message: string): void => void process.stderr.write(`${message}\n`)
const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'egress-bench-audit-'))
const dir = join(root, 'log')

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

async function buildLog(): Promise<{ publicJwk: Awaited<ReturnType<typeof exportJWK>> }> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  const wal = Wal.open(dir, { durability: 'none' })
  const sealer = new Sealer({ signer: { key: privateKey, kid }, everyRecords: SEAL_EVERY_RECORDS, everyMs: 86_400_000 })
  const batch: RecordInput[] = Array.from({ length: APPEND_BATCH_RECORDS }, (_, index) => {
    const payload = new Uint8Array(PAYLOAD_BYTES)
    for (let offset = 0; offset < PAYLOAD_BYTES; offset++) payload[offset] = (index * 7 + offset * 31) & 0xff
    return { type: 1, version: 1, payload }
  })
  for (let written = 0; written < RECORDS; written += APPEND_BATCH_RECORDS) {
    await wal.append(batch)
    await sealer.maybeSeal(wal, 0)
    if (written % 200_000 === 0) log(`build: ${written} records`)
  }
  await sealer.sealNow(wal, 0)
  await wal.close()
  return { publicJwk: { ...publicJwk, kid } }
}

interface Round {
  seconds: number
  records: number
  bytes: number
}

async function timeVerify(publicJwk: Awaited<ReturnType<typeof exportJWK>>): Promise<Round & { seals: number }> {
  const started = performance.now()
  const report = await verifyLogDirectory(dir, { publicKey: publicJwk })
  const seconds = (performance.now() - started) / 1000
  if (!report.ok) throw new Error(`the benchmark log does not verify: ${JSON.stringify(report.firstProblem)}`)
  return { seconds, records: report.records, bytes: report.bytes, seals: report.seals.checked }
}

function timePlainRead(verifyChain: boolean): Round {
  const started = performance.now()
  let bytes = 0
  const opened = openReadOnly(dir, { verifyChain, onFrame: (frame) => void (bytes += frame.frameBytes) })
  return { seconds: (performance.now() - started) / 1000, records: opened.lastLsn, bytes }
}

try {
  log(`building a log of ${RECORDS} records (${PAYLOAD_BYTES}-byte payloads, sealed every ${SEAL_EVERY_RECORDS}) in ${dir}`)
  const { publicJwk } = await buildLog()
  const audit: number[] = []
  const plain: number[] = []
  const nativeChain: number[] = []
  let last: (Round & { seals: number }) | null = null
  for (let round = 1; round <= ROUNDS; round++) {
    const plainRound = timePlainRead(false)
    plain.push(plainRound.seconds)
    last = await timeVerify(publicJwk)
    audit.push(last.seconds)
    nativeChain.push(timePlainRead(true).seconds)
    log(`round ${round}: audit verify ${last.seconds.toFixed(2)} s, plain read (CRC) ${plainRound.seconds.toFixed(2)} s, engine chain check (native SHA-256) ${nativeChain.at(-1)?.toFixed(2)} s`)
  }
  if (last === null) throw new Error('--rounds must be ≥ 1')
  const auditSec = median(audit)
  const plainSec = median(plain)
  const mb = last.bytes / 1e6
  const result = {
    bench: 'audit-verify',
    records: last.records,
    seals: last.seals,
    mb: Number(mb.toFixed(1)),
    mbPerSec: Number((mb / auditSec).toFixed(1)),
    recordsPerSec: Math.round(last.records / auditSec),
    plainReadMbPerSec: Number((mb / plainSec).toFixed(1)),
    plainReadRecordsPerSec: Math.round(last.records / plainSec),
    engineChainCheckMbPerSec: Number((mb / median(nativeChain)).toFixed(1)),
    /** Audit verify throughput as a fraction of the plain CRC-only read of the same files. */
    vsPlainRead: Number((plainSec / auditSec).toFixed(3)),
    rounds: ROUNDS,
  }
  console.log(JSON.stringify(result))
} finally {
  rmSync(root, { recursive: true, force: true })
}
