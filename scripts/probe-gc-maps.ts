/**
 * probe:gc-maps — what large mutated Maps cost JavaScriptCore's young-generation (eden) collections: each collection
 * revisits every large Map written since the previous one (the write barrier puts the whole Map in the remembered
 * set), so the pause grows with the size of the Maps a workload keeps mutating — and a gateway adds an entry per order
 * to several (kernel orders and idempotency index, the back office's two ledgers, the log index, the sim venue's
 * orders). Those are GenerationalMaps (src/domain/generational-map.ts), which this probe measures against Map.
 *
 * The probe allocates short-lived garbage at a steady rate for `PROBE_MS` while holding `MAPS` Maps of `SIZE` entries,
 * in three runs of its own child process: one that leaves the Maps alone (baseline), one that adds and removes an
 * entry in each Map per thousand allocations (as orders arrive and retire), and the same with GenerationalMaps. It
 * reads the collector's own log (BUN_JSC_logGC) and reports the eden collections' pause and cycle medians and maxima
 * of each run, with the median pause of the two mutated runs as a ratio to the baseline's; the last line is JSON.
 * The figures vary a lot from run to run on a shared machine: compare maxima and repeat.
 *
 * `bun scripts/probe-gc-maps.ts [--maps 8] [--size 40000]`
 */

import { parseArgs } from 'node:util'
import { GenerationalMap } from '../src/domain/generational-map.ts'

const PROBE_MS = 5_000

interface GcFigures {
  collections: number
  pauseMsMedian: number
  pauseMsMax: number
  cycleMsMedian: number
  cycleMsMax: number
}

/** The child: Maps held, garbage allocated, Maps optionally mutated; the collector logs to stderr. */
function runChild(maps: number, size: number, mutate: boolean, generational: boolean): void {
  type Entry = { lsn: number; id: string; lsns: number[] }
  const held = Array.from({ length: maps }, (): Map<string, Entry> => (generational ? new GenerationalMap<string, Entry>() : new Map<string, Entry>()))
  for (const map of held) for (let index = 0; index < size; index++) map.set(`k${index}`, { lsn: index, id: `v${index}`, lsns: [index] })
  let next = size
  let garbage: unknown[] = []
  const startMs = performance.now()
  while (performance.now() - startMs < PROBE_MS) {
    for (let index = 0; index < 1_000; index++) {
      garbage.push({ index, pair: [index, index], text: `s${index}` })
      if (garbage.length > 200) garbage = []
    }
    if (mutate) {
      for (const map of held) {
        map.set(`k${next}`, { lsn: next, id: `v${next}`, lsns: [next] })
        map.delete(`k${next - size}`)
      }
    }
    next++
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN
}

/** Pause and cycle times of the eden collections in a BUN_JSC_logGC transcript. */
function edenFigures(log: string): GcFigures {
  const pauses: number[] = []
  const cycles: number[] = []
  let eden = false
  for (const line of log.split('\n')) {
    if (line.includes('START')) eden = line.includes('EdenCollection')
    const end = /=> \d+kb, p=([0-9.]+)ms .*cycle ([0-9.]+)ms END/.exec(line)
    if (end !== null && eden) {
      pauses.push(Number(end[1]))
      cycles.push(Number(end[2]))
    }
  }
  // None read: the collector's log format is not what this parser knows (a Bun upgrade?); no figures are better than zeros.
  if (pauses.length === 0) throw new Error('probe:gc-maps: no eden collection found in the BUN_JSC_logGC output')
  const round = (value: number): number => Math.round(value * 100) / 100
  return {
    collections: pauses.length,
    pauseMsMedian: round(median(pauses)),
    pauseMsMax: round(Math.max(...pauses)),
    cycleMsMedian: round(median(cycles)),
    cycleMsMax: round(Math.max(...cycles)),
  }
}

async function probe(maps: number, size: number, mutate: boolean, generational = false): Promise<GcFigures> {
  const flags = [...(mutate ? ['--mutate'] : []), ...(generational ? ['--generational'] : [])]
  const child = Bun.spawn([process.execPath, import.meta.path, '--child', '--maps', String(maps), '--size', String(size), ...flags], {
    stdout: 'ignore',
    stderr: 'pipe',
    env: { ...process.env, BUN_JSC_logGC: '1' },
  })
  const log = await new Response(child.stderr).text()
  if ((await child.exited) !== 0) throw new Error(`probe child failed:\n${log.slice(-2_000)}`)
  return edenFigures(log)
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { maps: { type: 'string', default: '8' }, size: { type: 'string', default: '40000' }, child: { type: 'boolean' }, mutate: { type: 'boolean' }, generational: { type: 'boolean' } } })
  const maps = Number(values.maps)
  const size = Number(values.size)
  if (!Number.isInteger(maps) || maps < 1 || !Number.isInteger(size) || size < 1) throw new RangeError('--maps and --size must be positive integers')
  if (values.child === true) return runChild(maps, size, values.mutate === true, values.generational === true)
  const untouched = await probe(maps, size, false)
  const mutated = await probe(maps, size, true)
  const generational = await probe(maps, size, true, true)
  process.stderr.write(`probe:gc-maps: ${maps} Maps of ${size}: eden pause median ${untouched.pauseMsMedian} ms untouched, ${mutated.pauseMsMedian} ms mutated, ${generational.pauseMsMedian} ms mutated as GenerationalMaps\n`)
  const ratio = (value: number): number => Math.round((value / untouched.pauseMsMedian) * 10) / 10
  process.stdout.write(`${JSON.stringify({ probe: 'gc-maps', maps, size, untouched, mutated, generational, pauseMedianRatio: ratio(mutated.pauseMsMedian), generationalPauseMedianRatio: ratio(generational.pauseMsMedian) })}\n`)
}

await main()
