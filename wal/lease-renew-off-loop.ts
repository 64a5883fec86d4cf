/**
 * A leader's lease renewal off the event loop (Lease.renewOffLoop, wal/lease.ts): the record's write, its fsync, the
 * rename and the directory's fsync made on the thread pool. Renewed on the loop, a slow disk held the whole gateway
 * (intake, decisions) for as long as the two fsyncs took, and a renewal that took longer than the lease outlived the
 * expiry it wrote (scripts/probe-lease-renewal.ts).
 *
 * What renew guarantees holds unchanged: both clocks are read, and the checks made, before anything is written; until
 * the renewal has ended the previous expiry governs (isHeld, assertHeld: the log and the executor check those), and it
 * moves only after the record is durable and a listing found no newer epoch. One renewal writes at a time: a call
 * while one writes gets the renewal started when that one ends (one for every call meanwhile; it writes the floor and
 * the in-sync set as they are then), unless the lease no longer holds (Lease.renewOffLoop rejects at once). A renewal the lease was released during (release) writes nothing more and
 * rejects with LEASE_LOST.
 *
 * The checks, the record and the expiry's move stay the Lease's own: it hands this file its steps as closures over
 * its private state (LeaseRenewalSteps), so none of them is public.
 */

import { join } from 'node:path'
import { LeaseError } from './errors.ts'
import type { WalIo } from './io.ts'
import { offLoop, tempNameOf, writeDurablyOffLoop } from './lease-epoch-files.ts'
import { epochFileName, type LeaseRecord } from './lease-record.ts'

/** A renewal's record and the monotonic clock read with its wall clock, before anything was written. */
export interface LeaseRenewal {
  record: LeaseRecord
  monotonicNowMs: number
}

/** What a renewal off the loop needs of its Lease (wal/lease.ts), handed over by the Lease itself. */
export interface LeaseRenewalSteps {
  io: WalIo
  dir: string
  epoch: number
  /** The holder's id: part of the renewal's temp file's name (see renewalTempPath). */
  holderId: string
  /** A renewal's checks and its record (Lease.renewalBegun): throws as renew does. */
  begun: () => LeaseRenewal
  /** After the renewal's record is durable: a listing, then the expiry moved (Lease.renewalWritten). */
  written: (renewal: LeaseRenewal) => void
  /** Was the lease released (Lease.release)? */
  released: () => boolean
  /** The LEASE_LOST a renewal the lease was released during rejects with. */
  releasedWhileRenewing: () => LeaseError
  /** The holder's own file is about to be written: no proof of holding until a listing finds no newer epoch (Lease.fenced). */
  ownFileWritten: () => void
}

/** The renewals of one Lease off the event loop: one writing at a time, and at most one queued behind it. */
export class LeaseRenewalsOffLoop {
  private readonly steps: LeaseRenewalSteps
  /** The renewal writing off the event loop, or null: one at a time. */
  private renewalInFlight: Promise<LeaseRecord> | null = null
  /** The renewal asked for while one was writing: started when that one ends (shared by every call meanwhile), or null. */
  private renewalQueued: { renewed: Promise<LeaseRecord>; start: () => void } | null = null

  constructor(steps: LeaseRenewalSteps) {
    this.steps = steps
  }

  /** Is a renewal writing off the loop (Lease.renew must not run meanwhile)? */
  get writing(): boolean {
    return this.renewalInFlight !== null
  }

  /** Lease.renewOffLoop: see the file comment. */
  renew(): Promise<LeaseRecord> {
    if (this.renewalQueued !== null) return this.renewalQueued.renewed
    if (this.renewalInFlight === null) return this.renewalStarted()
    let start = (): void => {}
    const renewed = new Promise<LeaseRecord>((resolve, reject) => {
      start = () => void this.renewalStarted().then(resolve, reject)
    })
    this.renewalQueued = { renewed, start }
    return renewed
  }

  /** Starts a renewal off the loop; when it ends, the one queued meanwhile (if any) starts at once. */
  private renewalStarted(): Promise<LeaseRecord> {
    const renewal = this.renewedOffLoop()
    this.renewalInFlight = renewal
    const ended = (): void => {
      this.renewalInFlight = null
      const queued = this.renewalQueued
      this.renewalQueued = null
      queued?.start()
    }
    renewal.then(ended, ended)
    return renewal
  }

  private async renewedOffLoop(): Promise<LeaseRecord> {
    const renewal = this.steps.begun()
    try {
      await this.writeRecordOffLoop(renewal.record)
    } catch (error) {
      // Released meanwhile, its rename may have failed for want of the temp file release removed: lost, not an I/O error.
      if (this.steps.released() && !(error instanceof LeaseError)) throw this.steps.releasedWhileRenewing()
      throw error
    }
    this.steps.written(renewal)
    return renewal.record
  }

  /** Lease.writeRecord off the loop, under its own temp file (release's write may run while it waits; see Lease.release). */
  private async writeRecordOffLoop(record: LeaseRecord): Promise<void> {
    const { io, dir } = this.steps
    const path = join(dir, epochFileName(this.steps.epoch))
    const tempPath = this.renewalTempPath()
    await writeDurablyOffLoop(io, tempPath, record)
    if (this.steps.released()) throw this.steps.releasedWhileRenewing()
    this.steps.ownFileWritten()
    await offLoop((done) => io.renameOffLoop(tempPath, path, done))
    await offLoop((done) => io.fsyncDirectoryOffLoop(dir, done))
  }

  /**
   * The holder's id is in the name, not only the process id: two holders of one epoch (its file had gone and a taker
   * linked it again, Lease.takenAgain) in one process, or in two with the same pid (containers sharing the lease
   * directory), wrote one temp file, and the write of the one still syncing landed in the file the other had renamed
   * into place: half of each record, which no taker could read.
   */
  private renewalTempPath(): string {
    return `${join(this.steps.dir, epochFileName(this.steps.epoch))}.${tempNameOf(this.steps.holderId)}.${process.pid}.renewal.tmp`
  }

  /**
   * Resolves once no renewal writes off the loop or waits to (Lease.renewalsSettled); never rejects. Each renewal's own
   * caller is answered first: this waits on the very promise the caller awaits, one step behind it.
   */
  async settled(): Promise<void> {
    for (let pending = this.pending(); pending !== null; pending = this.pending()) {
      await pending.then(() => {}, () => {})
    }
  }

  /** The last renewal asked for that has not ended (the one queued, else the one writing), or null. */
  private pending(): Promise<LeaseRecord> | null {
    return this.renewalQueued?.renewed ?? this.renewalInFlight
  }

  /**
   * Removes the temp file of the renewal writing off the loop, if one is (Lease.release). Gone already: its rename was
   * made (release's own rename comes after it). One that cannot be removed (EIO) is let be: the lease is released all
   * the same, and such a disk fails the renewal's rename or sync too.
   */
  overtaken(): void {
    if (this.renewalInFlight === null) return
    try {
      this.steps.io.unlink(this.renewalTempPath())
    } catch {
      // ENOENT: renamed already (see above); anything else: see above.
    }
  }
}
