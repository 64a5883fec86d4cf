/**
 * The back office rebuilt offline from the log alone — from genesis, or from a snapshot's back-office section — into
 * an in-memory query model: what `egress snapshot` writes as the section of a stopped directory, and what
 * replay-verify compares the stored query model and every snapshot's section with. No engine, no file written.
 */

import { toHex, type Frame } from '../../wal/index.ts'
import { balanceRowsOf } from './balances.ts'
import { BreakBook } from './breaks.ts'
import { foldFrame } from './fold.ts'
import { genesisLedger, type FillRecord, type LedgerState, type Posting } from './ledger.ts'
import { decodeSection, encodeSection } from './section.ts'
import { Store, type QueryModelDigest } from './store.ts'

/** Rows are written to the in-memory store in batches of about this many. */
const BATCH_ROWS = 20_000

export class QueryModelRebuild {
  readonly ledger: LedgerState
  readonly breaks: BreakBook
  readonly store: Store
  /** The last record folded (or the section's LSN), and its chain hash. */
  lsn: number
  hash: string
  private postings: Posting[] = []
  private fills: FillRecord[] = []

  private constructor(ledger: LedgerState, breaks: BreakBook, store: Store, lsn: number, hash: string) {
    this.ledger = ledger
    this.breaks = breaks
    this.store = store
    this.lsn = lsn
    this.hash = hash
  }

  /** From the log's first record; `lotsUntrackedThroughLsn`: that of the ledger it repeats (LedgerState; 0: lots throughout). */
  static fromGenesis(lotsUntrackedThroughLsn = 0): QueryModelRebuild {
    return new QueryModelRebuild(genesisLedger(lotsUntrackedThroughLsn), new BreakBook(), Store.open(':memory:'), 0, '')
  }

  /** Starts from a snapshot's back-office section (throws BackOfficeSectionError when it is not usable). */
  static fromSection(bytes: Uint8Array): QueryModelRebuild {
    const section = decodeSection(bytes)
    return new QueryModelRebuild(section.ledger, section.breaks, Store.openImage(section.image), section.header.lsn, section.header.chainHead)
  }

  apply(frame: Frame): void {
    const booked = foldFrame(this.ledger, this.breaks, frame)
    this.lsn = frame.lsn
    this.hash = toHex(frame.hash)
    if (booked === null) return
    for (const posting of booked.postings) this.postings.push(posting)
    if (booked.fill !== null) this.fills.push(booked.fill)
    if (this.postings.length + this.fills.length >= BATCH_ROWS) this.writeRows()
  }

  /** Brings the store to the last folded record (rows, then positions and balances from the ledger) and digests it. */
  digest(): QueryModelDigest {
    this.settle()
    return this.store.contentDigest()
  }

  /** The back-office section at the last folded record. */
  section(): Uint8Array {
    this.settle()
    return encodeSection({ lsn: this.lsn, chainHead: this.hash, queryModel: this.store.contentDigest(), ledger: this.ledger, breaks: this.breaks, image: this.store.image() })
  }

  close(): void {
    this.store.close()
  }

  private settle(): void {
    this.writeRows()
    this.store.replaceDerived([...this.ledger.positions.values()], balanceRowsOf(this.ledger))
  }

  private writeRows(): void {
    if (this.lsn === this.store.lastLsn && this.postings.length === 0 && this.fills.length === 0) return
    this.store.write({ lastLsn: this.lsn, lastHash: this.hash, postings: this.postings, fills: this.fills, positions: [], balances: [], lotsUntrackedThroughLsn: this.ledger.lotsUntrackedThroughLsn })
    this.postings = []
    this.fills = []
  }
}
