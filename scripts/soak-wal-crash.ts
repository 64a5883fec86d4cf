/**
 * Soak for the WAL crash test: runs specs/wal/crash.test.ts with many more SIGKILL cycles than CI (default 1000).
 * Usage: bun scripts/soak-wal-crash.ts [--cycles 1000] [--seed 424242]
 * Progress and the test's own summary go to stderr; the last line of stdout is one JSON object.
 */

import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { cycles: { type: 'string', default: '1000' }, seed: { type: 'string', default: String(Date.now() % 1_000_000) } } })
const started = performance.now()
const child = Bun.spawn([process.execPath, 'test', 'specs/wal/crash.test.ts'], {
  env: { ...process.env, WAL_CRASH_CYCLES: values.cycles, WAL_CRASH_SEED: values.seed },
  stdout: 'inherit',
  stderr: 'inherit',
})
const exitCode = await child.exited
console.log(JSON.stringify({ soak: 'wal-crash', cycles: Number(values.cycles), seed: Number(values.seed), passed: exitCode === 0, seconds: Math.round((performance.now() - started) / 100) / 10 }))
process.exit(exitCode)
