/**
 * Preloaded into a real `egress serve` by specs/cli/serve-stop-stuck.test.ts: once the file named by
 * EGRESS_SPEC_HANG_SYNC_FLAG exists, every off-loop fdatasync of the log never answers, as a disk that hangs (a dead
 * NFS server, a stuck controller) would; and serve's stop bound (GATEWAY_STOP_WAIT_MS_MAX) is EGRESS_SPEC_STOP_WAIT_MS,
 * so the spec need not wait out the real one. The WAL calls its I/O through the shared `nodeIo` object.
 */

import { existsSync } from 'node:fs'
import { GATEWAY_STOP_WAIT_MS_MAX } from '../../../src/cli/serve.ts'
import { nodeIo } from '../../../wal/io.ts'

const flagPath = process.env.EGRESS_SPEC_HANG_SYNC_FLAG
const stopWaitMs = Number(process.env.EGRESS_SPEC_STOP_WAIT_MS)
if (flagPath === undefined || flagPath === '' || !(stopWaitMs > 0)) throw new Error('EGRESS_SPEC_HANG_SYNC_FLAG and EGRESS_SPEC_STOP_WAIT_MS must be set')

const fdatasyncOffLoop = nodeIo.fdatasyncOffLoop
nodeIo.fdatasyncOffLoop = (fd, done) => {
  if (!existsSync(flagPath)) fdatasyncOffLoop(fd, done)
}

const setTimer = globalThis.setTimeout
globalThis.setTimeout = ((callback: () => void, delayMs?: number, ...args: unknown[]) =>
  setTimer(callback, delayMs === GATEWAY_STOP_WAIT_MS_MAX ? stopWaitMs : delayMs, ...args)) as typeof setTimeout
