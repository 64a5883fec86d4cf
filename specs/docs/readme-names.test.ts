/**
 * Every CLI command, script, route, metric and source path the README names anywhere exists (readme-names.ts checks
 * each against the thing itself). It found `egress redecide`, a command the CLI never had: the re-decision of a log
 * is `bun scripts/redecide-log.ts`.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { category, checked, README, spans, startServed, type Served } from './readme-names.ts'

let served: Served
beforeAll(async () => {
  served = await startServed()
})
afterAll(async () => served.stop())

describe('the README names only CLI commands, scripts, routes, metrics and paths that exist', () => {
  const all = spans(README)
  for (const name of ['cli', 'script', 'route', 'metric', 'path']) {
    test(`every ${name} it names exists`, () => {
      const { found, problems } = checked(category(name), all)
      expect(problems).toEqual([])
      expect(found).toBeGreaterThan(5)
    })
  }
})
