/**
 * Which orphaned venue orders have had their REPORT_ORPHANED alert (report-intake.ts). A venue that keeps reporting
 * on an order egress does not hold (another system's order on a shared account, a retired order's late news) raised
 * the alert once per report, so one stray order could bury every other alert. Now the alert is raised for the first
 * report about an orphaned venue order; later ones are still recorded, without it, and counted (`repeats`).
 *
 * An orphan is named by its venue and venue order id (its client order id when the venue gave none). The memory is
 * bounded: past `max` names the one least recently reported on is forgotten, and alerts again if it comes back. It
 * lives in this process only (a restart alerts once more per orphan); the kernel decides from the command's
 * `orphanRepeat`, so replay and a standby's shadow decide the same.
 */

import type { ExecutionReport } from '../venues/adapter.ts'

/** Orphaned venue orders remembered by default. */
export const ORPHANS_REMEMBERED_MAX = 10_000

export class OrphanAlerts {
  /** Reports recorded without an alert, their orphan's alert raised already. */
  repeats = 0
  /** Insertion order is recency: a name reported on again moves to the end, the first is the one to forget. */
  private readonly alerted = new Map<string, true>()
  private readonly max: number

  constructor(max = ORPHANS_REMEMBERED_MAX) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`orphans remembered must be a positive integer, got ${max}`)
    this.max = max
  }

  get size(): number {
    return this.alerted.size
  }

  /** Was `report`'s orphan alerted already? (Refreshes it.) */
  alertedFor(report: ExecutionReport): boolean {
    const name = nameOf(report)
    if (!this.alerted.has(name)) return false
    this.alerted.delete(name)
    this.alerted.set(name, true)
    return true
  }

  /** The kernel recorded `report` as an orphan: with its alert (`repeat` false) or without (`repeat` true). */
  noteRecorded(report: ExecutionReport, repeat: boolean): void {
    if (repeat) {
      this.repeats++
      return
    }
    this.alerted.set(nameOf(report), true)
    if (this.alerted.size > this.max) {
      const oldest = this.alerted.keys().next()
      if (oldest.done !== true) this.alerted.delete(oldest.value)
    }
  }
}

function nameOf(report: ExecutionReport): string {
  const order = report.venueOrderId !== '' ? `v:${report.venueOrderId}` : `c:${report.clientOrderId}`
  return `${report.venue}\u0000${order}`
}
