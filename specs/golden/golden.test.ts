/**
 * The golden traces: every `traces/*.json` is one test. Adding a trace is adding a file. Each trace's expected
 * outcome was written by hand from the spec (its `summary` says why), not recorded from a run.
 */

import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
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

describe('golden traces', () => {
  test('there are at least 15 traces', () => {
    expect(files.length).toBeGreaterThanOrEqual(15)
  })

  for (const file of files) {
    const trace = load(file)
    const name = file.replace(/\.json$/, '')
    if (typeof trace === 'string') {
      test(name, () => {
        throw new Error(trace)
      })
      continue
    }
    test(name, async () => {
      expect(await runTrace(trace)).toEqual([])
    })
  }
})
