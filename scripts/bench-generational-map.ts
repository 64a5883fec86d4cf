/**
 * GenerationalMap micro-benchmark: this tree's map (src/domain/generational-map.ts) against the one at `--before` (a
 * commit; its generational-map.ts and the files it imports from src/domain are read with git show into a temporary
 * directory and imported), in one process, on the access patterns the gateway's per-order maps see:
 *
 *   has-set    has() of a new order id, then set() of it (kernel applyAccepted, the back office ledger)
 *   get-set    get() of a new order id, then set() of it (the HTTP log index's LSN lists, the sim venue's orders)
 *   set-new    set() of a new `${account} ${key}` idempotency key, built for the call as the kernel builds it
 *   has-idem   has() of a new idempotency key, then get(), then set() (place admission, decidePlace, apply)
 *   get-held   get() of a held order id, anywhere in the map (reads of resting orders)
 *   delete-old delete() of the oldest held key (retention), which keeps the map's size steady across rounds
 *
 * Each map is filled with `--keys` order ids first (so it holds its generations as in service). Each round runs every
 * pattern `--ops` times on each implementation, alternating which goes first; the loops are compiled once per
 * implementation (new Function) so neither sees the other's classes at its call sites, and each implementation gets
 * its own copies of the key strings (JavaScriptCore caches a string's hash in the string). Figures are medians over
 * batches of CPU time per operation (batches of 2,000 ops, the two implementations' batches interleaved).
 *
 *   bun scripts/bench-generational-map.ts [--keys 100000,1000000] [--ops 50000] [--rounds 7] [--before <commit>]
 *
 * Progress on stderr; the last line of stdout is one JSON object.
 */

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { GenerationalMap } from '../src/domain/generational-map.ts'

/** The tree before s45's changes to the map (main at 7e6ddec). */
const BEFORE_DEFAULT = '7e6ddecb21c030db0a1c62fb2bee4dd4e3b3788c'

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000,1000000' },
    ops: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '7' },
    before: { type: 'string', default: '' },
  },
})
const sizes = values.keys.split(',').map(Number)
const opsPerRound = Number(values.ops)
const rounds = Number(values.rounds)
if (!sizes.every((size) => Number.isSafeInteger(size) && size > 0) || !(opsPerRound > 0) || !(rounds > 0)) throw new Error('--keys, --ops and --rounds take positive integers')
const log = (line: string): void => void process.stderr.write(`${line}\n`)

type AnyMap = Map<string, unknown>
type MapClass = new () => AnyMap

async function importBefore(rev: string): Promise<MapClass> {
  const commit = rev === '' ? resolveBefore() : rev
  const dir = mkdtempSync(join(tmpdir(), 'genmap-before-'))
  try {
    // The map's own imports, followed from file to file (all in src/domain).
    const pending = ['generational-map.ts']
    const copied = new Set<string>()
    while (pending.length > 0) {
      const file = pending.pop()!
      if (copied.has(file)) continue
      const text = execFileSync('git', ['show', `${commit}:src/domain/${file}`], { encoding: 'utf8' })
      writeFileSync(join(dir, file), text)
      copied.add(file)
      for (const match of text.matchAll(/from '\.\/([\w-]+\.ts)'/g)) pending.push(match[1]!)
    }
    const module = (await import(join(dir, 'generational-map.ts'))) as { GenerationalMap: MapClass }
    return module.GenerationalMap
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function resolveBefore(): string {
  try {
    return execFileSync('git', ['rev-parse', '--verify', `${BEFORE_DEFAULT}^{commit}`], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error('pass --before <commit>: the default base commit is not in this repository')
  }
}

/** Seeded 32-bit generator (mulberry32): both implementations see the same keys. */
function generator(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state)
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** `count` fresh 20-character hex order ids (new string objects on every call, same text for the same seed). */
function orderIds(seed: number, count: number): string[] {
  const next = generator(seed)
  const bytes = Buffer.alloc(10)
  const out = new Array<string>(count)
  for (let index = 0; index < count; index++) {
    for (let byte = 0; byte < 10; byte++) bytes[byte] = Math.floor(next() * 256)
    out[index] = bytes.toString('hex')
  }
  return out
}

/** Accounts and client keys of idempotency keys (joined at the call, as idempotencyIndexKey does). */
function idempotencyParts(seed: number, count: number): { accounts: string[]; keys: string[] } {
  const next = generator(seed)
  const accounts = new Array<string>(count)
  const keys = new Array<string>(count)
  for (let index = 0; index < count; index++) {
    accounts[index] = `acct-${String(Math.floor(next() * 64)).padStart(3, '0')}`
    keys[index] = `cli-${Math.floor(next() * 2 ** 31).toString(36)}-${index.toString(36)}`
  }
  return { accounts, keys }
}

// One source, compiled once per implementation: each gets call sites of its own. Each runs inputs [from, to).
const PATTERNS_SOURCE = `
return {
  'has-set'(map, ids, from, to, fifo) { for (let i = from; i < to; i++) { const id = ids[i]; if (!map.has(id)) map.set(id, i); fifo.push(id) } },
  'get-set'(map, ids, from, to, fifo) { for (let i = from; i < to; i++) { const id = ids[i]; if (map.get(id) === undefined) map.set(id, i); fifo.push(id) } },
  'set-new'(map, parts, from, to, fifo) { const a = parts.accounts, k = parts.keys; for (let i = from; i < to; i++) { const key = a[i] + ' ' + k[i]; map.set(key, i); fifo.push(key) } },
  'has-idem'(map, parts, from, to, fifo) {
    const a = parts.accounts, k = parts.keys
    for (let i = from; i < to; i++) {
      if (map.has(a[i] + ' ' + k[i])) continue
      if (map.get(a[i] + ' ' + k[i]) !== undefined) continue
      const key = a[i] + ' ' + k[i]
      map.set(key, i)
      fifo.push(key)
    }
  },
  'get-held'(map, ids, from, to) { let found = 0; for (let i = from; i < to; i++) if (map.get(ids[i]) !== undefined) found++; return found },
  'delete-old'(map, fifo, from, to) { let deleted = 0; for (let i = from; i < to; i++) if (map.delete(fifo[i])) deleted++; return deleted },
}`

interface Subject {
  name: 'before' | 'after'
  map: AnyMap
  /** Every key set, oldest first; keys before `head` were deleted. */
  fifo: string[]
  head: number
  patterns: Record<string, (map: AnyMap, input: unknown, from: number, to: number, fifo: string[]) => unknown>
  samples: Record<string, number[]>
}

function makeSubject(name: Subject['name'], MapOf: MapClass, size: number): Subject {
  const map = new MapOf()
  const fifo = orderIds(1, size)
  for (let index = 0; index < fifo.length; index++) map.set(fifo[index]!, index)
  return { name, map, fifo, head: 0, patterns: new Function(PATTERNS_SOURCE)() as Subject['patterns'], samples: {} }
}

/** CPU time of `run` in ns (user + system: the machine is shared, and wall time counts other processes' turns). */
function timeNs(run: () => unknown): number {
  const start = process.cpuUsage()
  run()
  const spent = process.cpuUsage(start)
  return (spent.user + spent.system) * 1_000
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

const Before = await importBefore(values.before)
const results: Record<string, Record<string, { beforeNs: number; afterNs: number; ratio: number }>> = {}
/** Ops per timed batch: ~0.5–2 ms of work, so the CPU clock's microseconds are fine enough. */
const BATCH_OPS = 2_000
const PATTERN_NAMES = ['has-set', 'get-set', 'set-new', 'has-idem', 'get-held', 'delete-old'] as const

for (const size of sizes) {
  log(`${size} keys: filling both maps`)
  const subjects = [makeSubject('before', Before, size), makeSubject('after', GenerationalMap as unknown as MapClass, size)]
  for (let round = 0; round < rounds; round++) {
    const seed = 1_000 + round * 16
    for (const pattern of PATTERN_NAMES) {
      // Inputs first (each subject its own strings), then batches alternating which subject goes first.
      const removing = subjects[0]!.fifo.length - subjects[0]!.head - size
      const inputs = subjects.map((subject): unknown => {
        if (pattern === 'has-set' || pattern === 'get-set') return orderIds(seed + (pattern === 'has-set' ? 1 : 2), opsPerRound)
        if (pattern === 'set-new' || pattern === 'has-idem') return idempotencyParts(seed + (pattern === 'set-new' ? 3 : 4), opsPerRound)
        if (pattern === 'delete-old') return subject.fifo
        const next = generator(seed + 5)
        const live = subject.fifo.length - subject.head
        // Copies of held keys (fresh strings: no hash cached in them).
        return Array.from({ length: opsPerRound }, () => Buffer.from(subject.fifo[subject.head + Math.floor(next() * live)]!, 'latin1').toString('latin1'))
      })
      const total = pattern === 'delete-old' ? removing : opsPerRound
      Bun.gc(true)
      for (let batch = 0; batch * BATCH_OPS < total; batch++) {
        const from = batch * BATCH_OPS
        const to = Math.min(total, from + BATCH_OPS)
        for (const index of batch % 2 === 0 ? [0, 1] : [1, 0]) {
          const subject = subjects[index]!
          const offset = pattern === 'delete-old' ? subject.head : 0
          const ns = timeNs(() => subject.patterns[pattern]!(subject.map, inputs[index], from + offset, to + offset, subject.fifo))
          ;(subject.samples[pattern] ??= []).push(ns / (to - from))
        }
      }
      if (pattern === 'delete-old') for (const subject of subjects) subject.head += removing
    }
    const [before, after] = subjects as [Subject, Subject]
    if (before.map.size !== after.map.size || before.map.size !== size) throw new Error(`sizes differ: ${before.map.size} vs ${after.map.size}`)
    log(`  round ${round + 1}/${rounds}`)
  }
  const [before, after] = subjects as [Subject, Subject]
  results[String(size)] = Object.fromEntries(
    PATTERN_NAMES.map((name) => {
      const beforeNs = median(before.samples[name]!)
      const afterNs = median(after.samples[name]!)
      return [name, { beforeNs: Math.round(beforeNs), afterNs: Math.round(afterNs), ratio: Number((afterNs / beforeNs).toFixed(3)) }]
    }),
  )
  const generations = (subject: Subject): number => (subject.map as unknown as { generations: unknown[] }).generations.length
  log(`${size} keys: ${generations(before)} / ${generations(after)} generations (before / after)`)
  for (const [name, figures] of Object.entries(results[String(size)]!)) log(`  ${name.padEnd(10)} ${String(figures.beforeNs).padStart(5)} ns → ${String(figures.afterNs).padStart(5)} ns  ×${figures.ratio}`)
}

console.log(JSON.stringify({ bench: 'generational-map', opsPerRound, rounds, results }))
