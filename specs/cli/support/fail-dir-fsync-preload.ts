/**
 * Preloaded into a real `egress serve` by specs/cli/serve-ha-fsync-failure.test.ts: every fsync of a directory named
 * EGRESS_SPEC_FAIL_FSYNC_DIR (its last path component) answers EIO, as a failing disk would, and says so on stderr.
 * An HA node's data-dir swaps (snapshot install, setting a diverged log aside) call the shared `nodeIo` object when
 * no io is given, as in serve, so replacing the member here reaches them.
 */

import { basename } from 'node:path'
import { nodeIo } from '../../../wal/io.ts'

const failing = process.env.EGRESS_SPEC_FAIL_FSYNC_DIR
if (failing === undefined || failing === '') throw new Error('EGRESS_SPEC_FAIL_FSYNC_DIR is not set')
const fsyncDirectory = nodeIo.fsyncDirectory
nodeIo.fsyncDirectory = (path) => {
  if (basename(path) !== failing) return fsyncDirectory(path)
  process.stderr.write(`spec preload: EIO injected into the fsync of ${path}\n`)
  throw Object.assign(new Error(`EIO: i/o error, fsync '${path}' (injected by the spec)`), { code: 'EIO' })
}
