/**
 * probe:lease-renewal — how long a leader's lease renewal (wal/lease.ts) holds the event loop: `renew()` (the write,
 * the file fsync, the rename and the directory fsync all on the loop) against `renewOffLoop()` (the write, both
 * fsyncs and the rename on the thread pool), alternating, on a lease directory under `--dir` (default: the OS temp dir; the disk the
 * lease directory is on is what counts). A 1 ms interval timer measures the loop meanwhile: a stall is how late it
 * fired. Per mode: the median and highest wall time of a renewal, and the median and highest stall during one. The
 * last line is JSON.
 *
 * `bun scripts/probe-lease-renewal.ts [--renewals 40] [--dir /path]`
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Lease } from '../wal/index.ts'

const { values: args } = parseArgs({ options: { renewals: { type: 'string', default: '40' }, dir: { type: 'string', default: tmpdir() } } })
const RENEWALS = Number(args.renewals)
if (!Number.isSafeInteger(RENEWALS) || RENEWALS < 1) throw new Error(`--renewals takes a positive integer, got ${args.renewals}`)

interface Figures { wallMs: number[]; stallMs: number[] }

/** Runs `renewal` while a 1 ms timer watches the loop: its wall time and the latest the timer fired meanwhile. */
async function timed(renewal: () => Promise<void> | void): Promise<{ wallMs: number; stallMs: number }> {
  let last = performance.now()
  let stallMs = 0
  const timer = setInterval(() => {
    const now = performance.now()
    stallMs = Math.max(stallMs, now - last)
    last = now
  }, 1)
  await new Promise((resolve) => setTimeout(resolve, 5))
  last = performance.now()
  stallMs = 0
  const startedMs = performance.now()
  await renewal()
  const wallMs = performance.now() - startedMs
  // The loop's own lateness at the end counts too (a stall the timer had no turn to see).
  stallMs = Math.max(stallMs, performance.now() - last)
  clearInterval(timer)
  return { wallMs, stallMs }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

function summary(figures: Figures): Record<string, number> {
  const round = (value: number): number => Math.round(value * 100) / 100
  return { wallMsMedian: round(median(figures.wallMs)), wallMsMax: round(Math.max(...figures.wallMs)), stallMsMedian: round(median(figures.stallMs)), stallMsMax: round(Math.max(...figures.stallMs)) }
}

const dir = mkdtempSync(join(args.dir, 'egress-lease-probe-'))
try {
  const lease = Lease.acquire({ dir, holderId: 'probe http://127.0.0.1:1', ttlMs: 60_000, clockSkewMsMax: 500 })
  const onLoop: Figures = { wallMs: [], stallMs: [] }
  const offLoop: Figures = { wallMs: [], stallMs: [] }
  for (let at = 0; at < RENEWALS; at++) {
    const a = await timed(() => lease.renew())
    onLoop.wallMs.push(a.wallMs)
    onLoop.stallMs.push(a.stallMs)
    const b = await timed(async () => void (await lease.renewOffLoop()))
    offLoop.wallMs.push(b.wallMs)
    offLoop.stallMs.push(b.stallMs)
    if (at % 10 === 9) console.error(`${at + 1} of ${RENEWALS} renewals each way`)
  }
  lease.release()
  console.log(JSON.stringify({ renewals: RENEWALS, dir: args.dir, renew: summary(onLoop), renewOffLoop: summary(offLoop) }))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
