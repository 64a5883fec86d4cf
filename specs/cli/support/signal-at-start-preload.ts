/**
 * Preloaded into a real `egress serve` by specs/cli/serve-signal-at-start.test.ts and serve-ha-signal-at-start.test.ts:
 * the process sends itself the signal named by EGRESS_SPEC_SIGNAL_AT_START the first time the log creates its
 * directory (`<dataDir>/log`), i.e. in the middle of the start (after the config loaded, before the log is open; on an
 * HA node, once it has taken the lease and starts its gateway). The WAL calls its I/O through the shared `nodeIo`.
 * With EGRESS_SPEC_FAIL_FSYNC_FLAG set (fail-fsync-preload.ts preloaded too), that flag is made as the signal arrives:
 * the fsyncs of the stop fail, those of the start went through.
 */

import { writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { nodeIo } from '../../../wal/io.ts'

const signal = process.env.EGRESS_SPEC_SIGNAL_AT_START
if (signal !== 'SIGTERM' && signal !== 'SIGINT' && signal !== 'SIGHUP') throw new Error('EGRESS_SPEC_SIGNAL_AT_START must be SIGTERM, SIGINT or SIGHUP')
const mkdirp = nodeIo.mkdirp
let sent = false
nodeIo.mkdirp = (path) => {
  if (!sent && basename(path) === 'log') {
    sent = true
    process.kill(process.pid, signal)
  }
  mkdirp(path)
}
const failFsyncFlag = process.env.EGRESS_SPEC_FAIL_FSYNC_FLAG
if (failFsyncFlag !== undefined) process.once(signal, () => writeFileSync(failFsyncFlag, ''))
