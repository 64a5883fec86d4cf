/**
 * Preloaded into a real `egress serve` by specs/cli/serve-log-failure.test.ts: once the file named by
 * EGRESS_SPEC_FAIL_FSYNC_FLAG exists, every off-loop fdatasync of the log answers EIO, as a failing disk would — or,
 * with EGRESS_SPEC_FAIL_FSYNC_CALL=fsync, every fsync (a snapshot's, off the loop; the manifest's, the close's trim) instead, of files
 * under EGRESS_SPEC_FAIL_FSYNC_UNDER when given.
 * The WAL calls its I/O through the shared `nodeIo` object, so replacing the member here reaches serve's log.
 */

import { existsSync } from 'node:fs'
import { nodeIo } from '../../../wal/io.ts'

const flagPath = process.env.EGRESS_SPEC_FAIL_FSYNC_FLAG
if (flagPath === undefined || flagPath === '') throw new Error('EGRESS_SPEC_FAIL_FSYNC_FLAG is not set')
if (process.env.EGRESS_SPEC_FAIL_FSYNC_CALL === 'fsync') {
  // With EGRESS_SPEC_FAIL_FSYNC_UNDER, only files opened under that directory fail (a data dir, not the lease dir).
  const under = process.env.EGRESS_SPEC_FAIL_FSYNC_UNDER ?? ''
  const paths = new Map<number, string>()
  for (const open of ['openAppend', 'openRead'] as const) {
    const original = nodeIo[open]
    nodeIo[open] = (path) => {
      const fd = original(path)
      paths.set(fd, path)
      return fd
    }
  }
  const fsync = nodeIo.fsync
  nodeIo.fsync = (fd) => {
    if (!existsSync(flagPath) || !(paths.get(fd) ?? '').startsWith(under)) return fsync(fd)
    throw Object.assign(new Error('EIO: i/o error, fsync (injected by the spec)'), { code: 'EIO' })
  }
  const fsyncOffLoop = nodeIo.fsyncOffLoop
  nodeIo.fsyncOffLoop = (fd, done) => {
    if (!existsSync(flagPath) || !(paths.get(fd) ?? '').startsWith(under)) return fsyncOffLoop(fd, done)
    done(Object.assign(new Error('EIO: i/o error, fsync (injected by the spec)'), { code: 'EIO' }))
  }
} else {
  const fdatasyncOffLoop = nodeIo.fdatasyncOffLoop
  nodeIo.fdatasyncOffLoop = (fd, done) => {
    if (!existsSync(flagPath)) return fdatasyncOffLoop(fd, done)
    done(Object.assign(new Error('EIO: i/o error, fdatasync (injected by the spec)'), { code: 'EIO' }))
  }
}
