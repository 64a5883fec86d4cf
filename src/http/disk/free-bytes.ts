/**
 * The free space of the file system a directory is on, as `df` reports it: blocks available to an unprivileged writer
 * (f_bavail, not f_bfree: the root reserve is no room for the gateway) times the fragment size. Asynchronous, so a
 * slow or hung file system (a network mount) holds this read, not the event loop that answers cancels.
 */

import { statfs } from 'node:fs/promises'

/** Reads the free bytes of the file system `dir` is on; rejects when it cannot (the directory gone, EACCES, EIO). */
export type FreeBytesReader = (dir: string) => Promise<number>

export const readFreeBytes: FreeBytesReader = async function readFreeBytes(dir) {
  const stats = await statfs(dir)
  // frsize is the unit of the block counts (statvfs); Linux gives the same for bsize, other systems may not.
  const blockBytes = stats.frsize > 0 ? stats.frsize : stats.bsize
  return stats.bavail * blockBytes
}
