/**
 * The snapshot crash drill at length: `bun run scripts/snapshot-crash.ts [--cycles N] [--seed S]` kills a real gateway
 * process with SIGKILL at random points while it writes snapshots, N times over one data directory, and checks every
 * restart (specs/runtime/snapshot/crash-drill.ts). CI runs 10 cycles in specs/runtime/snapshot/crash.test.ts.
 * Progress on stderr; the last stdout line is one JSON object; exit 1 if any cycle found a problem.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { runCrashDrill } from '../specs/runtime/snapshot/crash-drill.ts'

const { values } = parseArgs({ options: { cycles: { type: 'string', default: '100' }, seed: { type: 'string' }, keep: { type: 'boolean', default: false } } })
const cycles = Number(values.cycles)
const seed = values.seed === undefined ? Math.floor(Math.random() * 0x7fff_ffff) : Number(values.seed)
if (!Number.isSafeInteger(cycles) || cycles < 1 || !Number.isSafeInteger(seed)) throw new Error('--cycles and --seed take integers')
const dir = mkdtempSync(join(tmpdir(), 'egress-snapshot-crash-'))
process.stderr.write(`snapshot crash drill: seed ${seed}, ${cycles} cycles, data ${dir}\n`)
const started = performance.now()
const result = await runCrashDrill({ dir, cycles, seed, killAfterMs: [80, 400], log: (line) => process.stderr.write(`${line}\n`) })
if (!values.keep) rmSync(dir, { recursive: true, force: true })
console.log(JSON.stringify({ drill: 'snapshot-crash', ...result, elapsedMs: Math.round(performance.now() - started) }))
process.exit(result.problems.length === 0 ? 0 : 1)
