/**
 * The compaction's basis check (basis-check.ts): a thread of its own (own event loop, own heap) that reads a snapshot
 * file, checks its digest, framing and schema and decodes its kernel state, as openSnapshot does, so the gateway's
 * event loop only waits for the answer. The chain head against the log is checked there, on the loop.
 *
 * It reads the file itself, through the plain file system calls (O_NONBLOCK: a FIFO under a snapshot's name is
 * refused at once). One request at a time, in order.
 */

import { nodeIo } from '../../../wal/index.ts'
import { announceThreadPriority } from '../thread-hello.ts'
import type { BasisCheckReply, BasisCheckRequest } from './basis-check.ts'
import { decodeChecked, readReadable, rejection } from './load.ts'
import { SnapshotStore } from './store.ts'

declare const self: Worker

// Gives way to the event loop and the gateway's other threads (src/runtime/thread-priority.ts), and says so.
announceThreadPriority(self)

function answer(request: BasisCheckRequest): BasisCheckReply {
  const { id, candidate } = request
  const store = new SnapshotStore(request.dir, { io: nodeIo, keep: 1 })
  let content: ReturnType<typeof readReadable>
  try {
    content = readReadable(store, candidate)
  } catch (error) {
    return { id, ok: true, header: null, digest: null, fileProblem: rejection(candidate.file, error), stateProblem: null }
  }
  try {
    decodeChecked(content)
    return { id, ok: true, header: content.header, digest: content.digest, fileProblem: null, stateProblem: null }
  } catch (error) {
    return { id, ok: true, header: content.header, digest: content.digest, fileProblem: null, stateProblem: rejection(candidate.file, error) }
  }
}

self.onmessage = (event: MessageEvent<BasisCheckRequest>) => {
  self.postMessage(answer(event.data))
}
