/**
 * The deterministic simulation in CI (DESIGN §9, issue 3): SIM_DEFAULTS.ciSeeds seeds, every invariant checked after
 * every step. A failure names its seed, step and replay command (`bun scripts/sim.ts --seed N --verbose`). The run's
 * figures go to stderr and to artifacts/assurance/simulation.json.
 *
 * Env: SIM_SEEDS / SIM_FROM change the range; SIM_STRICT=1 also fails on known, reported bugs (known-issues.ts).
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describeFailure, mergeReports, runBatch, type BatchReport } from './batch.ts'
import { SIM_DEFAULTS } from './defaults.ts'
import { runSeed } from './run-seed.ts'

/** About 35 s on the 2-core dev machine; the ceiling leaves room for a slow shared CI runner. */
const SIM_TEST_TIMEOUT_MS = 240_000
/**
 * The CI seeds run in this many tests, each a contiguous part of the range with a timeout of its own: as one test the
 * whole range took 228–238 s of its 240 s under heavy load (35 s quiet). The seeds and the checks are the same; the
 * artifact is the chunks' reports merged.
 */
const SEED_CHUNKS = 4
/** A chunk's timeout: about 9 s quiet, some 60 s under the heaviest load seen; twice that. */
const SEED_CHUNK_TIMEOUT_MS = 120_000
const ARTIFACT_DIR = join(import.meta.dir, '..', '..', 'artifacts', 'assurance')

function envInteger(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${text}`)
  return value
}

/** The seed range split into `chunks` contiguous parts, in order, none empty (fewer parts for fewer seeds). */
function seedChunks(from: number, count: number, chunks: number): { from: number; count: number }[] {
  const parts: { from: number; count: number }[] = []
  for (let index = 0; index < chunks; index++) {
    const start = Math.floor((index * count) / chunks)
    const end = Math.floor(((index + 1) * count) / chunks)
    if (end > start) parts.push({ from: from + start, count: end - start })
  }
  return parts
}

const SEEDS_FROM = envInteger('SIM_FROM', 1)
const SEEDS_COUNT = envInteger('SIM_SEEDS', SIM_DEFAULTS.ciSeeds)
const CHUNKS = seedChunks(SEEDS_FROM, SEEDS_COUNT, SEED_CHUNKS)
/** Each chunk's report, by its index, once its batch has run (failing or not). */
const chunkReports: (BatchReport | undefined)[] = CHUNKS.map(() => undefined)

/**
 * artifacts/assurance/simulation.json: the chunks' reports merged into the one report scripts/evidence.ts reads (the
 * chunks ran one after another, so the elapsed time is their sum). A chunk that did not finish (timed out, or left out
 * by a test filter) makes it a failure naming the seeds not run: the artifact is of the whole range or says it is not.
 */
function writeArtifact(): void {
  const reports = chunkReports.filter((report) => report !== undefined)
  if (reports.length === 0) return
  const merged = mergeReports(reports)
  merged.elapsedMs = reports.reduce((sum, report) => sum + report.elapsedMs, 0)
  const missing = CHUNKS.filter((_, index) => chunkReports[index] === undefined).map((chunk) => `${chunk.from}..${chunk.from + chunk.count - 1}`)
  merged.seedFrom = SEEDS_FROM
  merged.seedTo = SEEDS_FROM + SEEDS_COUNT - 1
  const artifact = missing.length === 0 ? merged : { ...merged, result: 'fail' as const, seedsNotRun: missing }
  mkdirSync(ARTIFACT_DIR, { recursive: true })
  writeFileSync(join(ARTIFACT_DIR, 'simulation.json'), `${JSON.stringify(artifact, null, 2)}\n`)
  const known = Object.entries(merged.known).map(([issue, entry]) => `${issue} ×${entry.findings} (seeds ${entry.seeds.join(', ')})`)
  console.error(
    `simulation: ${merged.seeds} seeds (${merged.seedFrom}..${merged.seedTo}), ${merged.steps} steps, ${merged.checks} invariant checks ` +
      `of ${merged.invariants.length} invariants in ${merged.elapsedMs} ms: ${artifact.result}` +
      (missing.length === 0 ? '' : `\nsimulation: seeds not run: ${missing.join(', ')}`) +
      (known.length === 0 ? '' : `\nsimulation: known, reported bugs seen (not failing; SIM_STRICT=1 fails them): ${known.join('; ')}`),
  )
}

describe('deterministic simulation', () => {
  afterAll(writeArtifact)

  for (const [index, chunk] of CHUNKS.entries()) {
    const seeds = `seeds ${chunk.from}..${chunk.from + chunk.count - 1}`
    test(`every invariant holds after every step, over many seeds with random faults, crashes and restarts (${seeds}, part ${index + 1} of ${CHUNKS.length})`, async () => {
      const report = await runBatch({
        from: chunk.from,
        count: chunk.count,
        steps: SIM_DEFAULTS.steps,
        stepMsMax: SIM_DEFAULTS.stepMsMax,
        strict: process.env.SIM_STRICT === '1',
      })
      chunkReports[index] = report
      console.error(`simulation: ${seeds}: ${report.steps} steps, ${report.checks} invariant checks in ${report.elapsedMs} ms: ${report.result}`)
      for (const failure of report.failures) console.error(describeFailure(failure))
      expect(report.failures.map((failure) => `seed ${failure.seed} step ${failure.step}: ${failure.violations[0]?.invariant}`)).toEqual([])
      expect(report.seeds).toBe(chunk.count)
    }, SEED_CHUNK_TIMEOUT_MS)
  }

  test('the CI seed range is split into contiguous parts that cover it exactly once', () => {
    expect(seedChunks(1, 500, 4)).toEqual([{ from: 1, count: 125 }, { from: 126, count: 125 }, { from: 251, count: 125 }, { from: 376, count: 125 }])
    expect(seedChunks(7, 10, 4)).toEqual([{ from: 7, count: 2 }, { from: 9, count: 3 }, { from: 12, count: 2 }, { from: 14, count: 3 }])
    expect(seedChunks(1, 2, 4)).toEqual([{ from: 1, count: 1 }, { from: 2, count: 1 }])
    expect(seedChunks(1, 0, 4)).toEqual([])
    expect(CHUNKS.reduce((sum, chunk) => sum + chunk.count, 0)).toBe(SEEDS_COUNT)
  })

  test('with the back office checked, fills whose cash rounds are traded, and egress, its ledger and the venue agree to the unit', async () => {
    // 38902 trades RND-USD (rounding-instrument.ts) with faults and restarts: ten of its trades' cash rounds. Its end
    // check compared egress's balances with the venue's trades truncated (the sim had never rounded cash) until then.
    // Found before OCO lists joined the workload: with them, its run no longer reliably trades RND-USD (2 of 6 runs had
    // no rounded trade), so it replays the workload it was found with.
    const result = await runSeed(38_902, { steps: SIM_DEFAULTS.steps, stepMsMax: SIM_DEFAULTS.stepMsMax, strict: true, backOffice: 'on', withoutLists: true })
    expect(result.failure === null ? null : describeFailure(result.failure)).toBeNull()
    expect(result.stats.cashRoundedTrades).toBeGreaterThan(0)
  }, SIM_TEST_TIMEOUT_MS)

  test('seeds that long runs broke hold every invariant (300 steps of up to 400 ms)', async () => {
    // 30209: a lost fill of the last order placed, among 213 open, was read back by the sweep after the end phase
    // compared (sweepReadBackMsMax). 30051: a fill between reconcile's status and trades reads was booked as a
    // synthetic fill and the real trade never read (src/runtime/read-back.ts). 30601: a lost fill of an order that kept
    // getting fills was never read back (src/runtime/fill-gap-watch.ts). Found before amends joined the workload, they
    // replay step for step only with the workload of then.
    const failures: string[] = []
    for (const seed of [30_209, 30_051, 30_601]) {
      const result = await runSeed(seed, { steps: 300, stepMsMax: 400, strict: true, withoutAmend: true })
      if (result.failure !== null) failures.push(describeFailure(result.failure))
    }
    expect(failures).toEqual([])
  }, SIM_TEST_TIMEOUT_MS)

  test('the same seed gives the same run, step for step, to the same final state', async () => {
    const options = { steps: 60, stepMsMax: SIM_DEFAULTS.stepMsMax }
    const first = await runSeed(9, options)
    const second = await runSeed(9, options)
    expect(second.digest).not.toBeNull()
    expect(second.digest).toBe(first.digest)
    expect(second.stats).toEqual(first.stats)
    expect(second.known).toEqual(first.known)
  })
})
