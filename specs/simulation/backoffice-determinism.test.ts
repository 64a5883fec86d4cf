/**
 * With the back office checked, the simulation is as deterministic as without it: a seed's run is the same step for
 * step, so a seed that fails in a `--backoffice` batch fails again when replayed alone. Its reconcile runs used to
 * take a number of simulated ms that depended on the wall clock (the replay worker's answer time, pauses paced to a
 * share of the loop in real time, walks cut into slices by performance.now), and two runs of seed 38902 differed in
 * orders, dropped reports and rounded trades.
 */

import { expect, test } from 'bun:test'
import { SIM_DEFAULTS } from './defaults.ts'
import { runSeed } from './run-seed.ts'

/** A short run keeps the spec quick; six reconcile runs happen in it (one every BACKOFFICE_CHECK_STEPS steps). */
const STEPS = 60
const RUN_TIMEOUT_MS = 120_000

test('with the back office checked, the same seed gives the same run, step for step, to the same final state', async () => {
  const options = { steps: STEPS, stepMsMax: SIM_DEFAULTS.stepMsMax, strict: true, backOffice: 'on' as const, withoutLists: true }
  const lines: string[][] = [[], []]
  const first = await runSeed(38_902, { ...options, trace: (line) => void lines[0]?.push(line) })
  const second = await runSeed(38_902, { ...options, trace: (line) => void lines[1]?.push(line) })
  expect(first.failure).toBeNull()
  expect(second.digest).not.toBeNull()
  expect(lines[1]).toEqual(lines[0] ?? [])
  expect(second.stats).toEqual(first.stats)
  expect(second.digest).toBe(first.digest)
  expect(second.known).toEqual(first.known)
}, RUN_TIMEOUT_MS)
