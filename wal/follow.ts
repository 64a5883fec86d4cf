/**
 * Tail-following: read from an LSN to the durable end, then keep receiving frames as batches commit. Used by the
 * executor, SSE and replication. Memory is bounded: live frames are buffered up to `bufferFramesMax`; a follower that
 * falls further behind drops its buffer and goes back to reading from disk, so it never misses a frame and never
 * holds more than the bound.
 */

import type { Frame } from './frame.ts'
import type { Wal } from './log.ts'

/** A frame whose payload and hash are owned copies (safe to keep). */
export interface OwnedFrame extends Frame {}

export interface FollowOptions {
  fromLsn: number
  bufferFramesMax: number
  signal?: AbortSignal
}

/** A frame that owns its bytes (a read frame's views are valid only until the next frame). */
export function copyFrame(frame: Frame): OwnedFrame {
  return { lsn: frame.lsn, epoch: frame.epoch, type: frame.type, version: frame.version, payload: frame.payload.slice(), hash: frame.hash.slice(), frameBytes: frame.frameBytes }
}

export async function* follow(wal: Wal, options: FollowOptions): AsyncGenerator<OwnedFrame> {
  let next = Math.max(options.fromLsn, wal.firstLsn)
  let buffer: OwnedFrame[] = []
  let overflowed = false
  let wake: (() => void) | null = null
  const unsubscribe = wal.subscribe((batch) => {
    if (!overflowed) {
      if (buffer.length + batch.frames.length > options.bufferFramesMax) {
        overflowed = true
        buffer = []
      } else {
        for (const frame of batch.frames) buffer.push(copyFrame(frame))
      }
    }
    wake?.()
  })
  const aborted = (): boolean => options.signal?.aborted === true
  const onAbort = (): void => wake?.()
  options.signal?.addEventListener('abort', onAbort)
  try {
    while (!aborted()) {
      if (next <= wal.lastLsn && (overflowed || buffer.length === 0 || (buffer[0]?.lsn ?? Infinity) > next)) {
        // Catch up from disk; the live buffer is only usable once it starts at or before `next`.
        overflowed = false
        for (const frame of wal.read(next)) {
          yield copyFrame(frame)
          next = frame.lsn + 1
          if (aborted()) return
        }
        buffer = buffer.filter((frame) => frame.lsn >= next)
        continue
      }
      const frame = buffer.shift()
      if (frame !== undefined) {
        if (frame.lsn < next) continue
        yield frame
        next = frame.lsn + 1
        continue
      }
      if (wal.fatalError !== null) throw wal.fatalError
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = null
    }
  } finally {
    unsubscribe()
    options.signal?.removeEventListener('abort', onAbort)
  }
}
