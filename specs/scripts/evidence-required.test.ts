// Seed 004 §12: completion is shown, not claimed — the E2E invariants (total quantity conserved, Lane0 first,
// leader-only live, Unknown converges, audit integrity) and the golden trace scenarios are CI artifacts of the evidence
// bundle. scripts/evidence.ts fails a release only for the entries scripts/evidence-required.ts lists, so each of
// those must be covered there by an entry some spec writes. Before, only the snapshot entries and the simulation were
// required: the golden traces and the audit chain wrote no entry at all, and the HA failover drills' entries could go
// missing unnoticed.
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { REQUIRED } from '../../scripts/evidence-required.ts'

const ROOT = resolve(import.meta.dir, '../..')

/** Seed 004 §12's E2E invariants and its golden traces, as scripts/evidence-required.ts names them (`covers`). */
const SECTION_12 = ['conservation', 'lane0-priority', 'leader-only-live', 'unknown-converges', 'audit-integrity', 'golden-traces'] as const

describe('required evidence (seed 004 §12)', () => {
  test('every E2E invariant of §12, and the golden traces, is covered by a required entry', () => {
    const uncovered = SECTION_12.filter((item) => !REQUIRED.some((required) => (required.covers ?? []).some((covered) => covered === item)))
    expect(uncovered).toEqual([])
  })

  test('each required entry names a spec in the checkout that writes it under its id', () => {
    const unwritten = REQUIRED.filter((required) => {
      const path = join(ROOT, required.spec)
      return !existsSync(path) || !readFileSync(path, 'utf8').includes(`'${required.id}`)
    }).map((required) => `${required.id} (${required.spec})`)
    expect(unwritten).toEqual([])
  })

  test('ids are unique', () => {
    const ids = REQUIRED.map((required) => required.id)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
