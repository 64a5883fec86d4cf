/**
 * Preloaded into a real `egress serve` by specs/cli/serve-stop-stuck.test.ts, serve-stop-progress.test.ts and
 * serve-ha-stop-progress.test.ts (an HA node's teardown has the same bounds): once the file named by
 * EGRESS_SPEC_HANG_SYNC_FLAG exists, every off-loop fdatasync of the log never answers, as a disk that hangs (a dead
 * NFS server, a stuck controller) would; once the file named by EGRESS_SPEC_SLOW_TURN_FLAG exists, each turn of the
 * event loop asked with setImmediate (the shutdown snapshot's slices, the log's flushes) comes EGRESS_SPEC_SLOW_TURN_MS
 * late, as a large state's slices do on a loaded machine. serve's stop bounds (GATEWAY_STOP_BOUNDS) are
 * EGRESS_SPEC_STOP_STALL_MS without progress and EGRESS_SPEC_STOP_CEILING_MS in all, so the specs need not wait out
 * the real ones. The WAL calls its I/O through the shared `nodeIo` object.
 */

import { existsSync } from 'node:fs'
import { GATEWAY_STOP_BOUNDS } from '../../../src/runtime/stop-watch.ts'
import { nodeIo } from '../../../wal/io.ts'

const hangFlag = process.env.EGRESS_SPEC_HANG_SYNC_FLAG ?? ''
const slowFlag = process.env.EGRESS_SPEC_SLOW_TURN_FLAG ?? ''
const slowTurnMs = Number(process.env.EGRESS_SPEC_SLOW_TURN_MS ?? '0')
const stallMs = Number(process.env.EGRESS_SPEC_STOP_STALL_MS)
const ceilingMs = Number(process.env.EGRESS_SPEC_STOP_CEILING_MS)
if (hangFlag === '' || slowFlag === '' || !(stallMs > 0) || !(ceilingMs > 0)) {
  throw new Error('EGRESS_SPEC_HANG_SYNC_FLAG, EGRESS_SPEC_SLOW_TURN_FLAG, EGRESS_SPEC_STOP_STALL_MS and EGRESS_SPEC_STOP_CEILING_MS must be set')
}
Object.assign(GATEWAY_STOP_BOUNDS, { stallMsMax: stallMs, ceilingMs, checkEveryMs: 50 })

const fdatasyncOffLoop = nodeIo.fdatasyncOffLoop
nodeIo.fdatasyncOffLoop = (fd, done) => {
  if (!existsSync(hangFlag)) fdatasyncOffLoop(fd, done)
}

const setTimer = globalThis.setTimeout
const setImmediateNow = globalThis.setImmediate
globalThis.setImmediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) =>
  existsSync(slowFlag) ? setTimer(() => callback(...args), slowTurnMs) : setImmediateNow(callback, ...args)) as typeof setImmediate
