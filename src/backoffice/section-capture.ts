/**
 * The second half of a snapshot's back-office section (Projector.captureSection copies the ledger and break book
 * synchronously in the snapshot's capture step): once the snapshot's LSN is durable, the copies are brought forward to
 * the section's LSN from the log — at or after the kernel's, covering every record they already hold — the query model
 * is waited for until it is written that far, and a copy of it trimmed back to exactly that LSN goes into the section.
 */

import { toHex, type Wal } from '../../wal/index.ts'
import { balanceRowsOf } from './balances.ts'
import type { BreakBook } from './breaks.ts'
import { foldFrame } from './fold.ts'
import type { LedgerState } from './ledger-state.ts'
import { sectionEncodeSteps } from './section.ts'
import { Store } from './store.ts'

/** How long a snapshot waits for the query model to be written up to its LSN before it fails. */
const SECTION_WAIT_MS_MAX = 10_000
/** Held orders written into the section between two yields to the event loop (~2.5 ms of encoding for 5,000). */
const ENTRIES_PER_SLICE_DEFAULT = 5_000

export interface SectionCapture {
  wal: Wal
  store: Store
  /** The copies made at capture, as of `appliedLsn`: brought forward here, in place. */
  ledger: LedgerState
  breaks: BreakBook
  appliedLsn: number
  /** The snapshot's (kernel's) LSN. */
  kernelLsn: number
  pause: () => Promise<void>
  /** Held orders encoded between two pauses (default ENTRIES_PER_SLICE_DEFAULT). */
  entriesPerSlice?: number
  /** True once the back office closed: the section cannot be finished. */
  closed: () => boolean
  /** The projector's flush: true once nothing is left to write. */
  flush: () => boolean
}

/** The section's bytes and the LSN it is at. */
export async function finishSection(capture: SectionCapture): Promise<{ bytes: Uint8Array; lsn: number }> {
  const { wal, store, ledger, breaks, appliedLsn, pause } = capture
  const lsn = Math.max(capture.kernelLsn, appliedLsn, breaks.lastLsn)
  let chainHead = ''
  for (const frame of wal.read(appliedLsn + 1, { toLsn: lsn })) foldFrame(ledger, breaks, frame)
  for (const frame of wal.read(lsn, { toLsn: lsn })) chainHead = toHex(frame.hash)
  if (chainHead === '') throw new Error(`the log has no record at LSN ${lsn} for the back-office section`)
  const deadline = performance.now() + SECTION_WAIT_MS_MAX
  while (store.lastLsn < lsn) {
    if (capture.closed()) throw new Error('the back office closed before its snapshot section was written')
    if (performance.now() > deadline) throw new Error(`the query model did not reach LSN ${lsn} within ${SECTION_WAIT_MS_MAX} ms (at ${store.lastLsn})`)
    if (!capture.flush()) await pause()
  }
  const copy = Store.openImage(store.image())
  try {
    await pause()
    copy.transaction((db) => {
      db.query('DELETE FROM postings WHERE lsn > ?1').run(lsn)
      db.query('DELETE FROM fills WHERE lsn > ?1').run(lsn)
      db.query('DELETE FROM true_up_fills WHERE lsn > ?1').run(lsn)
    })
    copy.replaceDerived([...ledger.positions.values()], balanceRowsOf(ledger))
    copy.setPosition(lsn, chainHead)
    const queryModel = await copy.contentDigestSliced(pause)
    await pause()
    const image = copy.image()
    const encoding = sectionEncodeSteps({ lsn, chainHead, queryModel, ledger, breaks, image }, capture.entriesPerSlice ?? ENTRIES_PER_SLICE_DEFAULT)
    for (let step = encoding.next(); ; step = encoding.next()) {
      if (step.done === true) return { bytes: step.value, lsn }
      await pause()
    }
  } finally {
    copy.close()
  }
}
