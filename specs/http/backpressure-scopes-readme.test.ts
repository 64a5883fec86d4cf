/**
 * A `429 RATE_LIMITED` says which bound refused it in `details.scope`; the README's Backpressure section names every
 * scope the HTTP layer answers, so a client (and the runbook's 429 entry) can tell them apart. `log` — the log's
 * append queue full, or too many answers already waiting for it (routes/support.ts) — was in no document.
 */

import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { WalFullError } from '../../wal/index.ts'
import { ApiError } from '../../src/http/errors.ts'
import { commandError } from '../../src/http/routes/support.ts'
import { EngineOverloadedError } from '../../src/runtime/engine-types.ts'

const ROOT = join(import.meta.dir, '..', '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

function backpressureSection(): string {
  const start = README.indexOf('\n## Backpressure')
  expect(start).toBeGreaterThan(0)
  return README.slice(start, README.indexOf('\n## ', start + 1))
}

/** Every `scope: '…'` literal under src/http: the scopes a refusal can carry. */
function scopesAnswered(): Set<string> {
  const found = new Set<string>()
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) walk(path)
      else if (entry.endsWith('.ts')) for (const match of readFileSync(path, 'utf8').matchAll(/scope: '([a-z_]+)'/g)) found.add(match[1] as string)
    }
  }
  walk(join(ROOT, 'src', 'http'))
  return found
}

describe('the README names every 429 scope', () => {
  test('a full log queue or engine queue is 429 RATE_LIMITED with scope log', () => {
    for (const error of [new WalFullError('full'), new EngineOverloadedError('busy')]) {
      const answer = commandError(error)
      expect(answer).toBeInstanceOf(ApiError)
      const { code, status, details } = answer as ApiError
      expect({ code, status, scope: details.scope }).toEqual({ code: 'RATE_LIMITED', status: 429, scope: 'log' })
    }
  })

  test('every scope the HTTP layer answers is named in Backpressure', () => {
    const scopes = scopesAnswered()
    expect([...scopes].sort()).toEqual(expect.arrayContaining(['account', 'bot', 'global', 'log', 'read', 'symbol']))
    const text = backpressureSection()
    expect([...scopes].filter((scope) => !text.includes(`\`${scope}\``))).toEqual([])
  })
})
