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

describe('golden traces', () => {
  test('there are at least 15 traces', () => {
    expect(files.length).toBeGreaterThanOrEqual(15)
  })

  for (const file of files) {
    const name = file.replace(/\.json$/, '')
    test(name, async () => {
      const parsed = v.safeParse(traceSchema, JSON.parse(readFileSync(join(TRACES_DIR, file), 'utf8')))
      if (!parsed.success) throw new Error(`${file} is not a valid trace: ${v.summarize(parsed.issues)}`)
      const failures = await runTrace(parsed.output)
      expect(failures).toEqual([])
    })
  }
})
