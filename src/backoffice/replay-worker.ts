/**
 * The replay worker: a thread of its own (own event loop, own heap) that holds the replay ledger (replay-ledger.ts)
 * and folds the log into it from the segment files, as the back office asks (replay-follower.ts). The fold's CPU, its
 * reads and its garbage stay off the gateway's event loop: folding there, in slices, held the loop for 2 ms at a time
 * and took ~7 % of it at the bench's half load.
 *
 * It answers one request at a time, in order: fold the slice named (starting over from a base when one comes), then
 * report where it got and, when asked, the replayed ledger's figures for the comparison. A failure (a record that
 * does not decode, a corrupt frame) is answered with its message and where the fold stopped: the ledger stays there
 * (the record's event was not applied), so asking again fails at once instead of folding the whole log again.
 */

import { openSlice } from '../../wal/index.ts'
import { announceThreadPriority } from '../runtime/thread-hello.ts'
import { ledgerFigures } from './internal-checks.ts'
import { baseFromTransfer, type FoldReply, type FoldRequest } from './replay-messages.ts'
import { ReplayLedger } from './replay-ledger.ts'

declare const self: Worker

// Gives way to the event loop and the gateway's other threads (src/runtime/thread-priority.ts), and says so.
announceThreadPriority(self)

const replay = new ReplayLedger()

function answer(request: FoldRequest): FoldReply {
  try {
    if (request.base !== null) replay.start(baseFromTransfer(request.base))
    const outcome = replay.started ? replay.foldTo(openSlice(request.slice), request.slice.toLsn) : 'gap'
    const figures = request.figures && outcome === 'done' ? ledgerFigures(replay.ledger) : null
    return { id: request.id, ok: true, outcome, started: replay.started, foldedLsn: replay.foldedLsn, figures }
  } catch (error) {
    return { id: request.id, ok: false, started: replay.started, foldedLsn: replay.foldedLsn, message: error instanceof Error ? error.message : String(error) }
  }
}

self.onmessage = (event: MessageEvent<FoldRequest>) => {
  self.postMessage(answer(event.data))
}
