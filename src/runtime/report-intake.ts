/**
 * A venue's execution report on its way into the kernel (Gateway: every adapter's onReport). It is checked first
 * against what the log can hold and read back (report-check.ts). A report the kernel did not record — refused by that
 * check, or refused by the engine (a record too large, the log's queue full) — is not retried: its order, if it is
 * one of ours, is read back from the venue, which tells what the lost report would have.
 */

import { orderIdFromClientId } from '../domain/orders.ts'
import type { Units } from '../domain/decimal.ts'
import type { Clock } from '../domain/clock.ts'
import type { ExecutionReport } from '../venues/adapter.ts'
import type { Engine } from './engine.ts'
import { invalidReportOf } from './report-check.ts'

export interface ReportIntake {
  engine: Engine
  clock: Clock
  onError: (error: unknown, context: string) => void
  /** A fill the kernel recorded for one of our orders (the fill-gap watch). */
  noteFill: (orderId: string, cumQty: Units) => void
  /** Asks the venue for the order's state (the executor's read-back). */
  readBack: (orderId: string) => void
}

export async function submitReport(intake: ReportIntake, report: ExecutionReport): Promise<void> {
  const invalid = invalidReportOf(report)
  if (invalid !== null) {
    intake.onError(invalid, `execution report ${String(report.execId)}`)
    return readBackOrderOf(intake, report)
  }
  try {
    const { decision } = await intake.engine.submit({ kind: 'venue_report', nowMs: intake.clock.nowMs(), report })
    if (report.kind !== 'fill') return
    const accepted = decision.events[0]
    if (accepted?.type === 'inbox.report_accepted' && accepted.orderId !== null) intake.noteFill(accepted.orderId, report.cumQty)
  } catch (error) {
    intake.onError(error, `execution report ${report.execId}`)
    readBackOrderOf(intake, report)
  }
}

function readBackOrderOf(intake: ReportIntake, report: ExecutionReport): void {
  const orderId = typeof report.clientOrderId === 'string' ? orderIdFromClientId(report.clientOrderId) : null
  if (orderId !== null && intake.engine.state.orders.has(orderId)) intake.readBack(orderId)
}
