/**
 * Where each account's latest `account.switch_changed` record is (kernel account-switch.ts): what the log index
 * (log-index.ts) keeps so `GET /v1/auto_stop` can show what the kernel's switch entry does not hold — the config digest
 * and build the stop was decided under (payload version 13) — by reading one record, not the log. The kernel state keeps
 * who, when and the note only (kernel-state format 25), and the log stays the one store of the rest.
 *
 * The latest record of an account whose switch is in force is the one that engaged it or moved it: a HALT or CANCEL_ONLY
 * asked again with the switch in force writes none (it ends waiting work only), and any RESUME lifts it. Bound: one
 * number per account ever stopped in the retained log (the configured accounts). Compaction needs no walk: a position
 * below the log's first LSN reads as no record (log-reads.ts readLsns).
 */

import { eventCode } from '../domain/events/index.ts'
import type { Frame } from '../../wal/index.ts'
import { domainEventOf } from '../runtime/records.ts'

const SWITCH_CODE = eventCode('account.switch_changed')

export class AccountSwitchPositions {
  private readonly latestLsns = new Map<string, number>()

  /**
   * Notes the record at `lsn` for the account, unless one later is noted already: the start-up scan, the background scan
   * of older records and the durable events may each come upon a record after a later one (in any order).
   */
  note(accountId: string, lsn: number): void {
    const known = this.latestLsns.get(accountId)
    if (known === undefined || known < lsn) this.latestLsns.set(accountId, lsn)
  }

  /** Notes the frame when it is an `account.switch_changed` record (only those are decoded: they are rare). */
  noteFrame(frame: Frame): void {
    if (frame.type !== SWITCH_CODE) return
    const event = domainEventOf(frame)
    if (event?.type === 'account.switch_changed') this.note(event.accountId, frame.lsn)
  }

  /** The LSN of the account's latest `account.switch_changed` record seen, or undefined. */
  latestLsnOf(accountId: string): number | undefined {
    return this.latestLsns.get(accountId)
  }
}
