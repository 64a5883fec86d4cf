/**
 * Snapshot load benchmark: where the time of loading a data directory's newest snapshot goes, phase by phase, on an
 * existing directory (e.g. the `source` a `bench-restart.ts --keep-dir` run leaves behind).
 *
 *   bun scripts/bench-snapshot-load.ts DIR [--rounds R]
 *
 * Each round (default 7; a full collection before each, as a restart begins with an empty heap): read the file,
 * check its digest and framing (decodeSnapshot), parse the kernel section's JSON part, decode it, decode the
 * idempotency columns. Nothing is written. Progress on stderr; the last stdout line is one JSON object with the
 * medians (ms).
 */

import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { decodeIdempotencyColumns, idempotencyColumns } from '../src/runtime/snapshot/idempotency-columns.ts'
import { decodeKernelState, decodeSnapshot, KERNEL_SECTION, SnapshotStore } from '../src/runtime/snapshot/index.ts'
import { nodeIo } from '../wal/index.ts'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '7' } } })
const dir = positionals[0]
const rounds = Number(values.rounds)
if (dir === undefined || !(Number.isSafeInteger(rounds) && rounds >= 1)) throw new RangeError('usage: bun scripts/bench-snapshot-load.ts DIR [--rounds R ≥ 1]')
const log = (line: string): void => void process.stderr.write(`${line}\n`)

const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 1 })
const candidate = store.candidates()[0]
if (candidate === undefined) throw new Error(`no snapshot in ${join(dir, 'snapshots')}`)
const phases = ['readMs', 'digestMs', 'jsonParseMs', 'jsonDecodeMs', 'idempotencyMs', 'totalMs'] as const
const samples: Record<(typeof phases)[number], number[]> = { readMs: [], digestMs: [], jsonParseMs: [], jsonDecodeMs: [], idempotencyMs: [], totalMs: [] }
let sizes = { fileBytes: 0, kernelBytes: 0, idempotencyBytes: 0, idempotencyEntries: 0, orders: 0 }
const empty = idempotencyColumns(new Map())
for (let round = 0; round < rounds; round++) {
  Bun.gc(true)
  const started = performance.now()
  const bytes = readWhole(candidate.path)
  const read = performance.now()
  const content = decodeSnapshot(bytes)
  const digested = performance.now()
  const kernel = content.sections.get(KERNEL_SECTION) as Uint8Array
  const jsonBytes = new DataView(kernel.buffer, kernel.byteOffset, 4).getUint32(0, true)
  const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(kernel.subarray(4, 4 + jsonBytes)))
  const parsed = performance.now()
  const rest = decodeKernelState({ json, idempotency: empty })
  const decoded = performance.now()
  const idempotency = decodeIdempotencyColumns(kernel.subarray(4 + jsonBytes), 'state.idempotency')
  const done = performance.now()
  const times = [read - started, digested - read, parsed - digested, decoded - parsed, done - decoded, done - started]
  phases.forEach((phase, index) => samples[phase].push(times[index] as number))
  sizes = { fileBytes: bytes.byteLength, kernelBytes: kernel.byteLength, idempotencyBytes: kernel.byteLength - 4 - jsonBytes, idempotencyEntries: idempotency.size, orders: rest.orders.size }
  log(`round ${round}: ${phases.map((phase, index) => `${phase} ${(times[index] as number).toFixed(1)}`).join(', ')}`)
}
console.log(JSON.stringify({ bench: 'snapshot-load', file: candidate.file, lsn: candidate.lsn, rounds, ...sizes, ...Object.fromEntries(phases.map((phase) => [phase, median(samples[phase])])) }))

function readWhole(path: string): Uint8Array {
  const fd = nodeIo.openRead(path)
  try {
    const bytes = new Uint8Array(nodeIo.sizeBytes(fd))
    let filled = 0
    while (filled < bytes.byteLength) {
      const count = nodeIo.read(fd, bytes.subarray(filled), filled)
      if (count <= 0) throw new Error(`${path}: short read at ${filled} of ${bytes.byteLength} bytes`)
      filled += count
    }
    return bytes
  } finally {
    nodeIo.close(fd)
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 10) / 10
}
