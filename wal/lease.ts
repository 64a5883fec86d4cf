/**
 * The leader lease with fencing epochs.
 *
 * A lease directory (may be shared between hosts) holds one file per epoch, `epoch-<n>.json`, each created by
 * hard-linking a fully written temp file into place (link fails if the name exists) — so exactly one process can ever
 * hold epoch n, even when two race for it, and an epoch file never exists without its content. The current lease is the file with
 * the highest epoch; its content names the holder and an expiry, which the holder renews by rewriting its own file
 * (temp file + fsync + rename + directory fsync; a leader makes them off the event loop, renewOffLoop:
 * wal/lease-renew-off-loop.ts). Taking over an expired lease means creating epoch n+1.
 *
 * Fencing: a holder of epoch n has lost the lease as soon as `epoch-<n+1>.json` exists, whatever its own clock says
 * (or, once takers have tidied both away, oldest first, any higher epoch file does). `assertHeld()` checks exactly that
 * (two stats) plus its own expiry, and the WAL calls it before writing each batch
 * (a writer that knows it was fenced writes nothing) and again after the fsync, before acknowledging, so a paused
 * ("zombie") leader that wakes up after a takeover cannot acknowledge anything. A holder's own writes (renewal, release)
 * and a taker's link are followed by a listing: paused between its check and its write, a zombie re-created the file
 * that later takers had tidied away, and the two stats then read its lease as held. A holder's writes also read its
 * file first: another holder's record there means its file had gone and a taker linked the same epoch again (a
 * directory emptied by hand, a damaged disk), and the lease is lost (two holders of one epoch otherwise). Until that
 * renewal both read the lease as held; a taker whose log already holds frames of the epoch is refused the log
 * (Wal.open: LeaseEpochUsedError) and takes the next epoch, which fences the other at once. A taker whose log holds none
 * (its replication behind, or the holder wrote nothing at the epoch yet) opens it, so the fencing check itself tells the
 * holder's own file from another linked under its name (WalIo.fileIdentity, in the stat it makes anyway; on a
 * difference it reads the record once): another holder's record there fences the holder at its next batch, rather than
 * its next renewal (until then both acknowledged writes at one epoch). Every frame carries the epoch, so
 * anything a zombie wrote during a takeover is recognisable and refused by replication and replay.
 *
 * Epochs the log holds: a lease directory emptied by hand (or one that lost its newest files) starts again below the
 * epochs the taker's log already holds frames of, and the log refuses a writer at or below its last epoch (Wal.open).
 * Each take of such an epoch was burnt: one failed start each (exit 1 at start-up; a standby's gateway stopped and
 * started again at each takeover tick), as many as the log's epoch, before the node could lead. A taker that says
 * its log's last epoch (`logEpoch`) takes the lease above it at once, and links every epoch file in between first,
 * each a released record (expiry 0) with the new record's holder and floor: epoch files are still created one after
 * another, each by a link that fails if the epoch is taken, so the fencing check above (n+1 exists) and the races
 * between takers hold as for a take of current + 1. Those epochs are spent, as the failed starts spent them, but
 * nothing is started at them; the climb is as long as the log's epoch is above the directory's (once, after the loss).
 *
 * Clock assumption: expiry compares wall clocks of different hosts. Hosts must be synchronised to within
 * `clockSkewMsMax` (NTP/PTP), and a taker waits until expiry + clockSkewMsMax. The holder also ends its own lease by a
 * monotonic clock (ttl after the renewal began), so a wall clock stepped back does not keep it holding for longer; a
 * wall clock stepped forward ends it early (safe). The fencing check itself needs no clock.
 * Filesystem assumption: link (create-if-absent) and rename are atomic and a directory fsync makes them durable (local
 * filesystems, NFSv4). Object stores and eventually consistent filesystems are not supported.
 *
 * The log floor (`replicatedLsn`): the holder writes into its record, at every renewal and at release, the highest LSN
 * a standby has acknowledged holding durably (`noteReplicated`; src/runtime/ha/leading.ts), never lower than the floor
 * it took over with. Under synchronous replication every acknowledged answer is at or below it. A taker that says
 * where its own log ends (`logEndLsn`) is refused (LEASE_LOG_BEHIND) when that is below the current record's floor:
 * its log lacks records another copy holds, and leading on it would lose them (an empty node started after a site loss
 * won the lease before the surviving standby). `acceptDataLoss` takes it all the same (the operator's explicit
 * override when no better copy is left); the new record's floor is then the taker's log end. The field is optional
 * both ways: a record without it (written by a build before it) guards nothing, and a build before it ignores it
 * (its parser checked the four fields it knew and took any others along unread).
 *
 * The in-sync set (`inSync`, wal/lease-in-sync.ts): the nodes whose acknowledgements the holder waits for, written
 * (`setInSync`, then a renewal) before a node's acknowledgements may release an answer. A taker that names its node
 * (`nodeId`) and is neither a member nor the holder is refused (LEASE_NOT_IN_SYNC), a member is held to the floor and
 * its join LSN; the new record carries the set on without the taker. Optional both ways like the floor: a record
 * without it guards as before, and a build before it takes it along unread. `previousHolder` (the node id of the holder
 * of the record this one took over from) is let through too while the set is empty (a term no member joined answered
 * nothing under fail_closed); optional both ways alike.
 */

import { join } from 'node:path'
import { assert } from './assert.ts'
import { LeaseError } from './errors.ts'
import { sameFileIdentity, type FileIdentity } from './io.ts'
import type { DataLossAccepted, TakenFloor } from './lease-floor.ts'
import type { LeaseInSyncMember } from './lease-in-sync.ts'
import { removeOldEpochFiles, tempNameOf, writeDurably } from './lease-epoch-files.ts'
import { epochFileName, highestEpoch, readCurrentLease, readLeaseRecordOf, sameLeaseRecord, type LeaseRecord } from './lease-record.ts'
import { leaseOptionsOf, takeEpoch } from './lease-take.ts'
import { LeaseRenewalsOffLoop, type LeaseRenewal } from './lease-renew-off-loop.ts'
import type { LeaseOptions } from './lease-options.ts'
import type { LeaseGuard } from './options.ts'

export { readCurrentLease, sameLeaseRecord, type LeaseRecord }

export class Lease implements LeaseGuard {
  readonly epoch: number
  private readonly options: LeaseOptions
  private expiresAtMs: number
  /** The same expiry on the monotonic clock: the holder's own deadline, whatever its wall clock does. */
  private deadlineMonotonicMs: number
  private released = false
  /** A newer epoch was seen: epochs are never taken back, so this lease is lost for good, whatever files go later. */
  private fencedSeen = false
  /**
   * This holder wrote its own epoch file since a listing last found no newer epoch. Its file being there proves
   * nothing then: the write may have re-created it after takers tidied it away (see renew), so the check lists.
   */
  private ownFileUnproven = false
  /**
   * The file under this epoch's name this holder last read its own record from (ownFileThere), or null: none yet. Another
   * file there is read before the fencing check takes it for this holder's.
   */
  private ownFileIdentity: FileIdentity | null = null
  /** The log floor this holder writes into its record (see the file comment); only ever raised. */
  private replicatedLsnNoted: number
  /** The renewals off the event loop (renewOffLoop): one writing at a time. */
  private readonly renewals: LeaseRenewalsOffLoop
  /** The in-sync set this holder writes into its record (see the file comment); undefined: none is written. */
  private inSyncNoted: LeaseInSyncMember[] | undefined
  /** Set when this lease was taken below the previous record's floor (acceptDataLoss). */
  readonly dataLossAccepted: DataLossAccepted | null
  /** The previous holder every record of this epoch names (see the file comment); undefined: none. */
  readonly previousHolder: string | undefined

  private constructor(
    options: LeaseOptions,
    epoch: number,
    taken: { expiresAtMs: number; deadlineMonotonicMs: number } & TakenFloor,
  ) {
    this.options = options
    this.epoch = epoch
    this.expiresAtMs = taken.expiresAtMs
    this.deadlineMonotonicMs = taken.deadlineMonotonicMs
    this.replicatedLsnNoted = taken.replicatedLsn
    this.dataLossAccepted = taken.dataLossAccepted
    this.inSyncNoted = taken.inSync
    this.previousHolder = taken.previousHolder
    this.renewals = new LeaseRenewalsOffLoop({
      io: options.io, dir: options.dir, epoch, holderId: options.holderId,
      begun: () => this.renewalBegun(),
      written: (renewal) => this.renewalWritten(renewal),
      released: () => this.released,
      releasedWhileRenewing: () => this.releasedWhileRenewing(),
      ownFileWritten: () => void (this.ownFileUnproven = true),
    })
  }

  /** The in-sync set written at the next renewal or release (as taken over, until setInSync); undefined: none. */
  get inSync(): readonly LeaseInSyncMember[] | undefined {
    return this.inSyncNoted
  }

  /**
   * The set the next renewal or release writes (undefined: write none). Only a written record makes it count: the
   * holder lets a new member's acknowledgements release answers once a renewal with it has succeeded.
   */
  setInSync(members: readonly LeaseInSyncMember[] | undefined): void {
    this.inSyncNoted = members?.map((member) => ({ nodeId: member.nodeId, joinedLsn: member.joinedLsn }))
  }

  /** The log floor written at the next renewal or release. */
  get replicatedLsn(): number {
    return this.replicatedLsnNoted
  }

  /**
   * A standby holds this holder's log durably up to `lsn` (its acknowledgement, counted for this term): the floor
   * written at the next renewal or release. Never lowered.
   */
  noteReplicated(lsn: number): void {
    if (Number.isSafeInteger(lsn) && lsn > this.replicatedLsnNoted) this.replicatedLsnNoted = lsn
  }

  /** Takes the lease (lease-take.ts takeEpoch: what it refuses, and how), then tidies older epochs' files away. */
  static acquire(partial: Partial<LeaseOptions> & { dir: string; holderId: string }): Lease {
    const options = leaseOptionsOf(partial)
    const taken = takeEpoch(options)
    const lease = new Lease(options, taken.epoch, taken)
    removeOldEpochFiles(options.io, options.dir, taken.epoch)
    return lease
  }

  get holderId(): string {
    return this.options.holderId
  }

  /** Is the lease still ours: not released, not expired by either of our clocks, and no newer epoch exists? */
  isHeld(): boolean {
    if (this.released) return false
    if (this.options.nowMs() >= this.expiresAtMs || this.options.monotonicNowMs() >= this.deadlineMonotonicMs) return false
    return !this.fenced()
  }

  /**
   * Has a newer epoch been taken? Epoch n+1's file says so, until a taker of n+5 or later tidies it away — and then
   * this holder's own file (n) is gone too, as files are tidied oldest first: a holder paused through five takeovers
   * found no n+1 and read its lease as held. So: a stat of n+1, then of n (n+1 first: n is removed before n+1, so n+1
   * missing here means n is missing by the second stat), and only when n is gone, a look at the highest epoch (a lease
   * directory emptied by hand fences nobody: there is no newer epoch, and the next renewal writes the file again).
   * The stat of n tells which file is there (ownFileThere): another than the one this holder last read its own record
   * from is read once, and a taker that linked n again after the file had gone fences this holder (see the file
   * comment). It costs the stat's few hundred nanoseconds over an existence check, and one read after each own write.
   * A directory that cannot be listed (a stat that fails reads as "not found": an NFS share gone for a moment, EACCES)
   * is no evidence of a newer epoch either, and is not an error here: thrown, the log took it for a failed write
   * (WalFatalError, the process exits). The holder's clocks bound the lease meanwhile, as when a stat of n+1 fails.
   * No clock is read. Two things are remembered: a newer epoch once seen (fencing is for good), and that this holder
   * wrote its own file since a listing last proved no newer epoch exists (renew): its file is then no proof, and the
   * check lists.
   */
  private fenced(): boolean {
    if (this.fencedSeen) return true
    const { io, dir } = this.options
    if (io.exists(join(dir, epochFileName(this.epoch + 1)))) return (this.fencedSeen = true)
    if (!this.ownFileUnproven) {
      const identity = io.fileIdentity(join(dir, epochFileName(this.epoch)))
      if (identity !== null) return !this.ownFileThere(identity)
    }
    try {
      return this.newerEpochListed()
    } catch {
      return false
    }
  }

  /** Lists the directory (throws its I/O error): is there a newer epoch? Remembered when there is. */
  private newerEpochListed(): boolean {
    if (highestEpoch(this.options.dir, this.options.io) > this.epoch) return (this.fencedSeen = true)
    this.ownFileUnproven = false
    return false
  }

  assertHeld(): void {
    if (!this.isHeld()) {
      throw new LeaseError('LEASE_LOST', `lease epoch ${this.epoch} held by ${this.options.holderId} is no longer held`)
    }
  }

  /**
   * Extends the expiry. Throws LeaseError if the lease was lost meanwhile (the caller must step down), or the I/O error
   * of a write or listing that failed (the expiry then stays where it was). Every call is made on the event loop (a
   * leader renews off it: renewOffLoop); not while a renewOffLoop is writing.
   *
   * A takeover may happen between the check and the rename, and a holder paused there (a few microseconds in the
   * normal run; a GC pause, a frozen VM, SIGSTOP) through five takeovers wakes to find its file and the next one tidied
   * away: its rename re-creates its own file, which the two-stat check then takes for "held". So after the write the
   * directory is listed — a newer epoch means lost, for good — and only then is the expiry moved. A listing that fails
   * leaves the expiry as it was and the own file unproven: every check lists until one succeeds, the old deadline
   * bounding the lease meanwhile.
   */
  renew(): void {
    assert(!this.renewals.writing, `lease epoch ${this.epoch}: renew() called while a renewal off the event loop is writing`)
    const renewal = this.renewalBegun()
    this.writeRecord(renewal.record)
    this.renewalWritten(renewal)
  }

  /**
   * renew with the record's write, its fsync, the rename and the directory's fsync made off the event loop: resolves
   * with the record written once it is durable and the expiry moved, rejects as renew throws. renew's guarantees hold
   * unchanged; one renewal writes at a time, and a release while one writes is the last word (wal/lease-renew-off-loop.ts).
   * A lease run out (or lost) rejects LEASE_LOST at once, even while a renewal writes: queued behind one that never
   * ended (a disk, an NFS share, that hangs), the caller waited for good and a leader never stepped down.
   */
  renewOffLoop(): Promise<LeaseRecord> {
    try {
      this.assertHeld()
    } catch (error) {
      return Promise.reject(error)
    }
    return this.renewals.renew()
  }

  /**
   * Resolves once no renewal off the loop writes or waits to (never rejects): every renewOffLoop asked for has been
   * answered. A node that stops awaits it after release (bounded: a renewal on a share that hangs never ends), so that
   * no renewal ends, and is reported, after its stop has.
   */
  renewalsSettled(): Promise<void> {
    return this.renewals.settled()
  }

  private releasedWhileRenewing(): LeaseError {
    return new LeaseError('LEASE_LOST', `lease epoch ${this.epoch} held by ${this.options.holderId} was released while it renewed`)
  }

  /**
   * A renewal's checks and its record. Both clocks are read before anything is written: the deadline counts from no
   * later than the record's expiry.
   */
  private renewalBegun(): LeaseRenewal {
    this.assertHeld()
    if (this.takenAgain()) throw new LeaseError('LEASE_LOST', `lease epoch ${this.epoch} held by ${this.options.holderId} was taken again by another holder (its epoch file had gone)`)
    const monotonicNowMs = this.options.monotonicNowMs()
    const now = this.options.nowMs()
    return { record: { holderId: this.options.holderId, epoch: this.epoch, expiresAtMs: now + this.options.ttlMs, renewedAtMs: now, ...this.floorFields() }, monotonicNowMs }
  }

  /** After the renewal's record is durable: a listing, then the expiry moved (see renew). */
  private renewalWritten(renewal: LeaseRenewal): void {
    if (this.released) throw this.releasedWhileRenewing()
    if (this.newerEpochListed()) throw new LeaseError('LEASE_LOST', `lease epoch ${this.epoch} held by ${this.options.holderId} was taken over while it renewed`)
    this.expiresAtMs = renewal.record.expiresAtMs
    this.deadlineMonotonicMs = renewal.monotonicNowMs + this.options.ttlMs
    this.assertHeld()
  }

  /**
   * Gives the lease up at once (clean shutdown), so a standby need not wait for expiry. A renewal writing off the loop
   * meanwhile is overtaken: its temp file is removed first, so its rename, if not made yet, fails and places nothing
   * (the rename and the unlink of one name: exactly one succeeds), and this record, renamed after either, is the last.
   */
  release(): void {
    if (this.released) return
    this.renewals.overtaken()
    if (this.isHeld() && !this.takenAgain()) {
      const now = this.options.nowMs()
      this.writeRecord({ holderId: this.options.holderId, epoch: this.epoch, expiresAtMs: 0, renewedAtMs: now, ...this.floorFields() })
    }
    this.released = true
  }

  /**
   * Does this epoch's file hold another holder's record? Its file gone (a lease directory emptied by hand, a damaged
   * disk that lost the newest file), a taker links this very epoch again, and the fencing check (two stats) then reads
   * the taker's file as this holder's own: both held epoch n. Read before each write of this holder's (renew, release),
   * so the holder that writes second never overwrites the other's record unseen. A file that cannot be read is no
   * evidence (the write replaces it, as before). Remembered: fencing is for good.
   */
  private takenAgain(): boolean {
    const holder = this.epochFileHolder()
    if (holder === null || holder === this.options.holderId) return false
    this.fencedSeen = true
    return true
  }

  /**
   * Is the file the fencing check found under this epoch's name (`identity`) this holder's own? The one it last read its
   * own record from, yes; another (its own renewal or release renamed a new one in, or a taker linked this epoch again
   * after the file had gone) is read once: another holder's record fences this lease for good (takenAgain's reason,
   * found at the next batch rather than the next renewal), its own is remembered. None there any more, or unreadable:
   * no evidence, as for takenAgain, and nothing remembered (the next check reads again).
   */
  private ownFileThere(identity: FileIdentity): boolean {
    const known = this.ownFileIdentity
    if (known !== null && sameFileIdentity(known, identity)) return true
    const holder = this.epochFileHolder()
    if (holder === null) return true
    if (holder !== this.options.holderId) {
      this.fencedSeen = true
      return false
    }
    this.ownFileIdentity = identity
    return true
  }

  /** The holder id of this epoch's file's record; null when there is none or it cannot be read (no evidence). */
  private epochFileHolder(): string | null {
    try {
      return readLeaseRecordOf(this.options.dir, this.epoch, this.options.io)?.holderId ?? null
    } catch {
      return null
    }
  }

  /** What this holder's record says of its standbys: the floor, the in-sync set when it keeps one, the previous holder. */
  private floorFields(): Pick<LeaseRecord, 'replicatedLsn' | 'inSync' | 'previousHolder'> {
    return {
      replicatedLsn: this.replicatedLsnNoted,
      ...(this.inSyncNoted === undefined ? {} : { inSync: this.inSyncNoted }),
      ...(this.previousHolder === undefined ? {} : { previousHolder: this.previousHolder }),
    }
  }

  /**
   * renew's and release's write, on the event loop. Its temp file names the holder, not only the process (as a renewal
   * off the loop's does, lease-renew-off-loop.ts): two holders of one epoch (Lease.takenAgain) in processes with the same
   * pid (containers sharing the lease directory) wrote one temp file, and the one renaming second found it gone (ENOENT)
   * or renamed the other's record in as its own.
   */
  private writeRecord(record: LeaseRecord): void {
    const { io, dir } = this.options
    const path = join(dir, epochFileName(this.epoch))
    const tempPath = `${path}.${tempNameOf(this.options.holderId)}.${process.pid}.tmp`
    writeDurably(io, tempPath, record)
    this.ownFileUnproven = true
    io.rename(tempPath, path)
    io.fsyncDirectory(dir)
  }
}
