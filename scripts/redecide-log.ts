/**
 * Re-decides a stopped data directory's log from its kernel.command records (src/runtime/ha/redecide.ts): every
 * command is decided again by this build's kernel on the state before its events and compared with the events that
 * were logged. Only logs written by a node with an HA role hold command records. Exit 0 when every decision matches,
 * 65 on a mismatch. The last line of stdout is one JSON object.
 *
 * Usage: bun scripts/redecide-log.ts DATA_DIR   (or the log directory itself)
 */

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { redecideLog } from '../src/runtime/ha/index.ts'

const dir = process.argv[2]
if (dir === undefined) {
  process.stderr.write('usage: bun scripts/redecide-log.ts DATA_DIR\n')
  process.exit(64)
}
const logDir = existsSync(join(dir, 'log')) ? join(dir, 'log') : dir
const started = performance.now()
const report = redecideLog(logDir)
const { lastMismatches, ...counts } = report
for (const mismatch of lastMismatches) process.stderr.write(`mismatch at LSN ${mismatch.lsn} (${mismatch.kind ?? 'undecodable'}): ${mismatch.difference}\n`)
console.log(JSON.stringify({ check: 'redecide', logDir, ...counts, elapsedMs: Math.round(performance.now() - started) }))
process.exit(report.mismatches === 0 ? 0 : 65)
