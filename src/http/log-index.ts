/**
 * Which log records belong to which order: orderId → the LSNs of its events, oldest first. Built once at start by
 * scanning the log (payloads are parsed just far enough to read their `orderId`) and kept current from the engine's
 * durable events. `GET /v1/orders/:id/events`, `/explain` and rejected-order lookups read the log through it, so the
 * log stays the only store of what happened; this holds only positions.
 *
 * Bound: one number per order event, for every order in the retained log. That grows with the log like the kernel's
 * own order map does; compaction (which drops old segments) is the bound for both.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Engine } from '../runtime/engine.ts'
import { domainEventOf, isAuditRecord } from '../runtime/records.ts'
import type { Wal } from '../../wal/index.ts'

const decoder = new TextDecoder()

/** Gaps wider than this between two wanted LSNs start a new read instead of scanning the frames in between. */
const READ_GAP_FRAMES_MAX = 256

export interface LoggedEvent {
  lsn: number
  event: DomainEvent
}

export class LogIndex {
  private readonly byOrder = new Map<string, number[]>()
  private readonly wal: Wal
  private unsubscribe: (() => void) | null = null

  private constructor(wal: Wal) {
    this.wal = wal
  }

  /** Scans the durable log, then follows the engine. Call before any request is served. */
  static build(engine: Engine): LogIndex {
    const index = new LogIndex(engine.wal)
    for (const frame of engine.wal.read(engine.wal.firstLsn)) {
      if (isAuditRecord(frame.type)) continue
      const orderId = orderIdOfPayload(frame.payload)
      if (orderId !== null) index.add(orderId, frame.lsn)
    }
    const scannedTo = engine.wal.lastLsn
    index.unsubscribe = engine.onDurable((events) => {
      for (const { event, lsn } of events) {
        // The scan already saw what was durable when it ran; listeners may still be delivering those batches.
        if (lsn <= scannedTo) continue
        const orderId = (event as { orderId?: unknown }).orderId
        if (typeof orderId === 'string') index.add(orderId, lsn)
      }
    })
    return index
  }

  close(): void {
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  has(orderId: string): boolean {
    return this.byOrder.has(orderId)
  }

  /** The order's events as recorded, oldest first (only what is durable). */
  events(orderId: string): LoggedEvent[] {
    const lsns = this.byOrder.get(orderId)
    if (lsns === undefined) return []
    return readLsns(this.wal, lsns)
  }

  /** The order's first event: its `order.accepted` or `order.rejected`. */
  first(orderId: string): LoggedEvent | null {
    const lsn = this.byOrder.get(orderId)?.[0]
    if (lsn === undefined) return null
    return readLsns(this.wal, [lsn])[0] ?? null
  }

  private add(orderId: string, lsn: number): void {
    const list = this.byOrder.get(orderId)
    if (list === undefined) this.byOrder.set(orderId, [lsn])
    else if ((list.at(-1) as number) < lsn) list.push(lsn)
  }
}

/** Reads the given ascending LSNs from the log, scanning runs of nearby LSNs in one pass. */
export function readLsns(wal: Wal, lsns: readonly number[]): LoggedEvent[] {
  const result: LoggedEvent[] = []
  const wanted = lsns.filter((lsn) => lsn >= wal.firstLsn && lsn <= wal.lastLsn)
  let index = 0
  while (index < wanted.length) {
    const runStart = wanted[index] as number
    let runEnd = runStart
    let next = index + 1
    while (next < wanted.length && (wanted[next] as number) - runEnd <= READ_GAP_FRAMES_MAX) runEnd = wanted[next++] as number
    const inRun = new Set(wanted.slice(index, next))
    for (const frame of wal.read(runStart, { toLsn: runEnd })) {
      if (!inRun.has(frame.lsn)) continue
      const event = domainEventOf(frame)
      if (event !== null) result.push({ lsn: frame.lsn, event })
    }
    index = next
  }
  return result
}

function orderIdOfPayload(payload: Uint8Array): string | null {
  try {
    const parsed = JSON.parse(decoder.decode(payload)) as { orderId?: unknown }
    return typeof parsed.orderId === 'string' ? parsed.orderId : null
  } catch {
    return null
  }
}
