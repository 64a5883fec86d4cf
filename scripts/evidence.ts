/**
 * Summarises the evidence bundle (artifacts/assurance/*.json, written by the specs — see specs/support/evidence.ts)
 * as one table, and exits 1 when a required entry is missing or any entry failed.
 *
 *   bun scripts/evidence.ts [--dir DIR] [--fresh] [--json]
 *
 * --fresh  also fail entries recorded for another commit than the checkout's (stale evidence from an earlier run).
 *
 * The checkout's commit is the build's own (scripts/evidence-commit.ts): git's HEAD; EGRESS_BUILD_COMMIT (or
 * GITHUB_SHA) only where there is no git, and ignored (said on stderr) when it names another. The output says which
 * source answered (`commit` in the summary line and the JSON), and each row the source its entry was recorded from.
 * --json   print the summary as JSON instead of the table.
 *
 * Entries in the bundle's format carry id, kind, invariant, cases/seeds/steps, result and commit. Other JSON files
 * in the directory (the simulation's batch report) are read leniently: their `result` and seed/step counts.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { checkoutEvidenceCommit } from './evidence-commit.ts'
import { REQUIRED } from './evidence-required.ts'

const ROOT = resolve(import.meta.dir, '..')

interface Row {
  id: string
  kind: string
  result: string
  cases: string
  seeds: string
  steps: string
  commit: string
  /** Where the entry's commit came from when it was recorded (`git`, `env`, `none`); `-` for an older entry. */
  commitSource: string
  status: 'ok' | 'FAILED' | 'MISSING' | 'STALE' | 'UNREADABLE' | 'n/a'
  invariant: string
}

const { values } = parseArgs({ options: { dir: { type: 'string' }, fresh: { type: 'boolean' }, json: { type: 'boolean' } }, strict: true })
const dir = resolve(values.dir ?? join(ROOT, 'artifacts', 'assurance'))
const checkout = checkoutEvidenceCommit(ROOT)
if (checkout.warning !== null) console.error(`evidence: ${checkout.warning}`)
// Nothing to compare with when nothing told the commit (`dev`): no entry is stale then.
const head = checkout.source === 'none' ? null : checkout.commit

const rows = new Map<string, Row>()
for (const name of existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.json')).sort() : []) {
  rows.set(name.slice(0, -'.json'.length), readEntry(join(dir, name), name.slice(0, -'.json'.length)))
}
for (const required of REQUIRED) {
  if (rows.has(required.id)) continue
  const applicable = existsSync(join(ROOT, required.spec))
  rows.set(required.id, blank(required.id, applicable ? 'MISSING' : 'n/a', applicable ? `required; written by ${required.spec}` : `${required.spec} not in this checkout`))
}

const all = [...rows.values()].sort((a, b) => a.id.localeCompare(b.id))
const bad = all.filter((row) => row.status === 'FAILED' || row.status === 'MISSING' || row.status === 'UNREADABLE' || (values.fresh === true && row.status === 'STALE'))
const summary = {
  evidence: dir,
  entries: all.length,
  passed: all.filter((row) => row.status === 'ok').length,
  failed: all.filter((row) => row.status === 'FAILED').length,
  missing: all.filter((row) => row.status === 'MISSING').length,
  stale: all.filter((row) => row.status === 'STALE').length,
  commit: { commit: checkout.recorded, source: checkout.source },
  ok: bad.length === 0,
}
if (values.json === true) console.log(JSON.stringify({ ...summary, rows: all }, null, 2))
else {
  console.log(table(all))
  console.log(`evidence: ${summary.passed} ok, ${summary.failed} failed, ${summary.missing} missing, ${summary.stale} stale of ${summary.entries} (${dir})`)
  console.log(`evidence: checkout commit ${checkout.recorded} (from ${checkout.source})`)
  for (const row of bad) console.error(`evidence: ${row.status}: ${row.id}${row.invariant === '' ? '' : ` — ${row.invariant}`}`)
}
process.exit(summary.ok ? 0 : 1)

function readEntry(path: string, id: string): Row {
  let value: Record<string, unknown>
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (error) {
    return blank(id, 'UNREADABLE', String(error))
  }
  const result = typeof value.result === 'string' ? value.result : 'unknown'
  const commit = typeof value.commit === 'string' ? value.commit : '-'
  const stale = head !== null && commit !== '-' && commit.replace(/\+dirty$/, '') !== head
  return {
    id,
    kind: typeof value.kind === 'string' ? value.kind : 'report',
    result,
    cases: count(value.cases ?? value.checks),
    seeds: seedsOf(value),
    steps: count(value.steps),
    commit: commit === '-' ? '-' : commit.slice(0, 12) + (commit.endsWith('+dirty') ? '+' : ''),
    commitSource: typeof value.commitSource === 'string' ? value.commitSource.slice(0, 16) : '-',
    status: result !== 'pass' ? 'FAILED' : stale ? 'STALE' : 'ok',
    invariant: typeof value.invariant === 'string' ? value.invariant : Array.isArray(value.invariants) ? `invariants: ${(value.invariants as unknown[]).join(', ')}` : '',
  }
}

function seedsOf(value: Record<string, unknown>): string {
  const seeds = value.seeds
  if (Array.isArray(seeds)) return String(seeds.length)
  if (typeof seeds === 'number') return String(seeds)
  if (typeof seeds === 'object' && seeds !== null && 'from' in seeds && 'to' in seeds) return `${String(seeds.from)}..${String(seeds.to)}`
  return '-'
}

function count(value: unknown): string {
  return typeof value === 'number' ? value.toLocaleString('en-US') : '-'
}

function blank(id: string, status: Row['status'], invariant: string): Row {
  return { id, kind: '-', result: '-', cases: '-', seeds: '-', steps: '-', commit: '-', commitSource: '-', status, invariant }
}

function table(list: Row[]): string {
  const columns: (keyof Row)[] = ['status', 'id', 'kind', 'result', 'cases', 'seeds', 'steps', 'commit', 'commitSource']
  const widths = columns.map((column) => Math.max(column.length, ...list.map((row) => String(row[column]).length)))
  const line = (cells: string[]): string => cells.map((cell, index) => cell.padEnd(widths[index] as number)).join('  ').trimEnd()
  return [line(columns.map(String)), line(widths.map((width) => '-'.repeat(width))), ...list.map((row) => line(columns.map((column) => String(row[column]))))].join('\n')
}
