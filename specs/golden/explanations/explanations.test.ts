/**
 * Golden explanations: each `*.json` here places one order through the HTTP API in a deterministic world
 * (world.ts), runs the clock, and compares `GET /v1/orders/:id/explain` with the file's `expect` after normalising
 * what cannot be derived by hand: the order id (a hash) becomes `<order>` wherever it appears, body digests become
 * `<sha256>`, trace ids and traceparents (random: egress starts the trace) `<trace id>` and `<traceparent>`, and epoch-millisecond times become `T0+n`. LSNs are kept: the bootstrap's records are countable.
 *
 * The expectations were written from the spec and the configuration (each file's `summary` gives the reasoning and the
 * arithmetic), not recorded; there is no update switch — a changed expectation is re-derived by a person.
 */

import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Role } from '../../../src/http/auth/index.ts'
import { T0 } from '../../runtime/harness.ts'
import { startExplainWorld } from './world.ts'

interface GoldenExplanation {
  summary: string
  spec: string
  as: { sub: string; roles: Role[]; accounts: string[] }
  place: Record<string, unknown>
  placeStatus: number
  runMs: number
  expect: unknown
}

const DIR = import.meta.dir
const FILES = readdirSync(DIR).filter((name) => name.endsWith('.json')).sort()

/** Times at or after this are epoch milliseconds (durations such as ageMs stay as they are). */
const EPOCH_MS_MIN = 1_000_000_000_000

function normalise(value: unknown, orderId: string, key = ''): unknown {
  if (typeof value === 'string') {
    if (key === 'bodyDigest') return '<sha256>'
    // Egress starts a trace for a place without traceparent: its ids are random (src/http/trace.ts).
    if (key === 'trace_id') return '<trace id>'
    if (key === 'traceparent') return '<traceparent>'
    return value.split(orderId).join('<order>')
  }
  if (typeof value === 'number' && /(Ms|_ms)$/.test(key) && value >= EPOCH_MS_MIN) return `T0+${value - T0}`
  if (Array.isArray(value)) return value.map((item) => normalise(item, orderId))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, normalise(item, orderId, name)]))
  }
  return value
}

describe('golden explanations', () => {
  test('there is at least a rejected and a filled order', () => {
    expect(FILES).toEqual(expect.arrayContaining(['rejected-notional.json', 'filled-limit-buy.json']))
  })

  for (const file of FILES) {
    test(file.replace(/\.json$/, ''), async () => {
      const golden = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as GoldenExplanation
      const w = await startExplainWorld()
      try {
        const token = await w.token(golden.as)
        const placed = await w.http.app.request('/v1/orders', {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(golden.place),
        })
        const body = (await placed.json()) as { order_id?: string; error?: { details: { order_id?: string } } }
        expect(placed.status).toBe(golden.placeStatus)
        const orderId = body.order_id ?? body.error?.details.order_id
        if (orderId === undefined) throw new Error(`${file}: the place answer names no order: ${JSON.stringify(body)}`)
        await w.run(golden.runMs)
        const auditor = await w.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
        const explained = await w.http.app.request(`/v1/orders/${orderId}/explain`, { headers: { Authorization: `Bearer ${auditor}` } })
        expect(explained.status).toBe(200)
        expect(normalise(await explained.json(), orderId)).toEqual(golden.expect)
        expect(w.world.errors).toEqual([])
      } finally {
        await w.stop()
      }
    })
  }
})
