/**
 * Preloaded into a real `egress serve` by specs/cli/serve-signal-at-start.test.ts: the process sends itself the signal
 * named by EGRESS_SPEC_SIGNAL_AT_START the first time the log creates its directory, i.e. in the middle of the start
 * (after the config loaded, before the log is open). The WAL calls its I/O through the shared `nodeIo` object.
 */

import { nodeIo } from '../../../wal/io.ts'

const signal = process.env.EGRESS_SPEC_SIGNAL_AT_START
if (signal !== 'SIGTERM' && signal !== 'SIGINT') throw new Error('EGRESS_SPEC_SIGNAL_AT_START must be SIGTERM or SIGINT')
const mkdirp = nodeIo.mkdirp
let sent = false
nodeIo.mkdirp = (path) => {
  if (!sent) {
    sent = true
    process.kill(process.pid, signal)
  }
  mkdirp(path)
}
