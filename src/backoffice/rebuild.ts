/**
 * The back office rebuilt offline from the log alone — from genesis, or from a snapshot's back-office section — into
 * an in-memory query model: what `egress snapshot` writes as the section of a stopped directory, and what
 * replay-verify compares the stored query model and every snapshot's section with. No engine, no file written.
 *
 * A query model upgraded in place holds no true-up fill through some LSN (store-schema.ts): a rebuild compared with it
 * leaves those out too (`trueUpsUntrackedThroughLsn`), as it repeats the lots rule the data was written by.
 */

import { toHex, type Frame } from '../../wal/index.ts'
import { balanceRowsOf } from './balances.ts'
import { BreakBook } from './breaks.ts'
import { foldFrame } from './fold.ts'
import { genesisLedger, type FillRecord, type LedgerState, type Posting } from './ledger-state.ts'
import { encodeSection, type BackOfficeSection } from './section.ts'
import { openSectionImage } from './section-model.ts'
import { Store, type QueryModelDigest } from './store.ts'
import type { TrueUpFill } from './true-up-fills.ts'

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
  private trueUpFills: TrueUpFill[] = []
  /** True-up fills at or below this LSN are left out (see the header). */
  private readonly trueUpsUntrackedThroughLsn: number

  private constructor(ledger: LedgerState, breaks: BreakBook, store: Store, at: { lsn: number; hash: string; trueUpsUntrackedThroughLsn: number }) {
    this.ledger = ledger
    this.breaks = breaks
    this.store = store
    this.lsn = at.lsn
    this.hash = at.hash
    this.trueUpsUntrackedThroughLsn = Math.max(at.trueUpsUntrackedThroughLsn, store.modelVersion.trueUpsUntrackedThroughLsn)
  }

  /**
   * From the log's first record. `lotsUntrackedThroughLsn`: that of the ledger it repeats (LedgerState; 0: lots
   * throughout); `trueUpsUntrackedThroughLsn`: that of the query model it is compared with (0: true-up fills throughout).
   */
  static fromGenesis(lotsUntrackedThroughLsn = 0, trueUpsUntrackedThroughLsn = 0): QueryModelRebuild {
    return new QueryModelRebuild(genesisLedger(lotsUntrackedThroughLsn), new BreakBook(), Store.open(':memory:'), { lsn: 0, hash: '', trueUpsUntrackedThroughLsn })
  }

  /**
   * Starts from a snapshot's back-office section, decoded (decodeSection), and takes it over: its ledger and break
   * book are folded on. Throws BackOfficeSectionError when its image is not usable. An image of an older query model is
   * upgraded in place: it holds no true-up fill through the section's LSN (store-schema.ts).
   */
  static fromSection(section: BackOfficeSection, trueUpsUntrackedThroughLsn = 0): QueryModelRebuild {
    const store = openSectionImage(section)
    store.upgradeInPlace()
    return new QueryModelRebuild(section.ledger, section.breaks, store, { lsn: section.header.lsn, hash: section.header.chainHead, trueUpsUntrackedThroughLsn })
  }

  apply(frame: Frame): void {
    const booked = foldFrame(this.ledger, this.breaks, frame)
    this.lsn = frame.lsn
    this.hash = toHex(frame.hash)
    if (booked === null) return
    for (const posting of booked.postings) this.postings.push(posting)
    if (booked.fill !== null) this.fills.push(booked.fill)
    if (booked.trueUpFill !== undefined && booked.trueUpFill.lsn > this.trueUpsUntrackedThroughLsn) this.trueUpFills.push(booked.trueUpFill)
    if (this.postings.length + this.fills.length + this.trueUpFills.length >= BATCH_ROWS) this.writeRows()
  }

  /**
   * Brings the store to the last folded record (rows, then positions and balances from the ledger) and digests it:
   * the tables of query model `version` (store-schema.ts; this build's unless compared with an older one's digest).
   */
  digest(version?: number): QueryModelDigest {
    this.settle()
    return this.store.contentDigest(version)
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
    if (this.lsn === this.store.lastLsn && this.postings.length === 0 && this.fills.length === 0 && this.trueUpFills.length === 0) return
    const rows = { postings: this.postings, fills: this.fills, trueUpFills: this.trueUpFills }
    this.store.write({ lastLsn: this.lsn, lastHash: this.hash, ...rows, positions: [], balances: [], lotsUntrackedThroughLsn: this.ledger.lotsUntrackedThroughLsn })
    this.postings = []
    this.fills = []
    this.trueUpFills = []
  }
}
