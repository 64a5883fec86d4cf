/**
 * The golden traces: every `traces/*.json` is one test. Adding a trace is adding a file. Each trace's expected
 * outcome was written by hand from the spec (its `summary` says why), not recorded from a run.
 *
 * Their result goes into the evidence bundle (seed 004 §12, golden trace scenarios) as `golden.traces`, once every
 * trace has run: `pass` when all passed, `fail` naming those that did not. A run that ran only some of them (a test
 * name filter) and failed none records nothing, so it neither claims the whole set nor leaves a stale `pass` behind.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { recordEvidence } from '../support/evidence.ts'
import { runTrace } from './runner.ts'
import { traceSchema } from './trace.ts'

const TRACES_DIR = join(import.meta.dir, 'traces')
const files = readdirSync(TRACES_DIR).filter((file) => file.endsWith('.json')).sort()
/** The trace in `file`, or the reason it is not a valid one (reported as that trace's failure). */
function load(file: string): v.InferOutput<typeof traceSchema> | string {
  try {
    const parsed = v.safeParse(traceSchema, JSON.parse(readFileSync(join(TRACES_DIR, file), 'utf8')))
    return parsed.success ? parsed.output : `${file} is not a valid trace: ${v.summarize(parsed.issues)}`
  } catch (error) {
    return `${file} is not valid JSON: ${String(error)}`
  }
}

/** What became of each trace this run: started, and passed or not (a trace started and not passed failed). */
const started = new Set<string>()
const passed = new Set<string>()

afterAll(() => {
  const failed = [...started].filter((name) => !passed.has(name))
  if (failed.length === 0 && started.size < files.length) return
  recordEvidence({
    id: 'golden.traces',
    kind: 'golden',
    invariant: 'every golden trace (a scripted scenario with its outcome derived by hand from the spec: states, log records, reservations, balances, reconcile results) reaches exactly that outcome',
    spec: 'specs/golden/golden.test.ts',
    cases: files.length,
    result: failed.length === 0 ? 'pass' : 'fail',
    details: failed.length === 0 ? { traces: files.length } : { traces: files.length, failed, notRun: files.length - started.size },
  })
})

describe('golden traces', () => {
  test('there are at least 15 traces', () => {
    expect(files.length).toBeGreaterThanOrEqual(15)
  })

  for (const file of files) {
    const trace = load(file)
    const name = file.replace(/\.json$/, '')
    if (typeof trace === 'string') {
      test(name, () => {
        started.add(name)
        throw new Error(trace)
      })
      continue
    }
    test(name, async () => {
      started.add(name)
      expect(await runTrace(trace)).toEqual([])
      passed.add(name)
    })
  }
})
