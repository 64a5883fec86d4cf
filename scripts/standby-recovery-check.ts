/**
 * End to end on real processes: a standby that joins a leader whose log is already compacted recovers from the
 * leader's snapshot instead of retrying forever (specs/runtime/ha/recovery-drill.ts has the details). Takes a few
 * seconds. Progress on stderr; the last line of stdout is one JSON object; exit 1 if the standby did not recover.
 *
 * Usage: bun scripts/standby-recovery-check.ts [--keep]
 */

import { parseArgs } from 'node:util'
import { runRecoveryCheck } from '../specs/runtime/ha/recovery-drill.ts'

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } })
const result = await runRecoveryCheck({ keep: values.keep === true, log: (line) => void process.stderr.write(`recovery: ${line}\n`) })
const { recovery: _recovery, ...summary } = result
console.log(JSON.stringify({ check: 'standby-recovery', ...summary }))
process.exit(result.ok ? 0 : 1)
