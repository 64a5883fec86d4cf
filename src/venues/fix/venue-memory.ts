/**
 * What the FIX adapter remembers, bounded and oldest forgotten first: each order's facts (FIX cancel, amend and status
 * messages must carry the order's side and symbol, and name the venue's OrderID once known) and each sent request by
 * MsgSeqNum (session and business rejects name only the number). The runtime's order projection (`lookupOrder`)
 * answers for orders no longer, or not yet, remembered here — after a restart, for instance.
 */

import type { ExecutionReport } from '../adapter.ts'
import type { FixMessage } from './message.ts'
import { readPositive, type FixOrderFacts } from './reports.ts'
import { Tag } from './tags.ts'

/** A request as sent, so a reject naming only its MsgSeqNum can be reported against the right order. */
export interface SentMessage {
  msgType: string
  clientOrderId: string
  /** For cancels and amends: the order they act on. */
  origClientOrderId: string | undefined
  sendingTime: string
}

export interface FixOrderMemoryOptions {
  orderFactsMax: number
  sentMessagesMax: number
  lookupOrder: ((clientOrderId: string) => FixOrderFacts | undefined) | undefined
}

export class FixOrderMemory {
  readonly #options: FixOrderMemoryOptions
  readonly #facts = new Map<string, FixOrderFacts>()
  readonly #sent = new Map<number, SentMessage>()

  constructor(options: FixOrderMemoryOptions) {
    this.#options = options
  }

  /** The order's facts, remembered here or else from the runtime's projection; undefined for an empty id. */
  factsOf(clientOrderId: string): FixOrderFacts | undefined {
    if (clientOrderId === '') return undefined
    return this.#facts.get(clientOrderId) ?? this.#options.lookupOrder?.(clientOrderId)
  }

  /** Only what this adapter itself remembers (placed, amended or learned), never the runtime's projection. */
  remembered(clientOrderId: string): FixOrderFacts | undefined {
    return this.#facts.get(clientOrderId)
  }

  remember(facts: FixOrderFacts): void {
    this.#facts.delete(facts.clientOrderId)
    this.#facts.set(facts.clientOrderId, facts)
    evictOldest(this.#facts, this.#options.orderFactsMax)
  }

  rememberSent(seqNum: number, sent: SentMessage): void {
    this.#sent.set(seqNum, sent)
    evictOldest(this.#sent, this.#options.sentMessagesMax)
  }

  sentAs(seqNum: number): SentMessage | undefined {
    return this.#sent.get(seqNum)
  }

  /**
   * The MsgSeqNum of the one remembered message of type `msgType` sent under `clientOrderId`; undefined when there is
   * none or more than one (an order re-sent under its ClOrdID): then a reject naming only the id and type could be
   * about either. A walk over at most sentMessagesMax entries, for the rare reject that names no MsgSeqNum.
   */
  onlySentAs(clientOrderId: string, msgType: string): number | undefined {
    let found: number | undefined
    for (const [seqNum, sent] of this.#sent) {
      if (sent.clientOrderId !== clientOrderId || sent.msgType !== msgType) continue
      if (found !== undefined) return undefined
      found = seqNum
    }
    return found
  }

  /** Numbering restarted: old numbers mean nothing. */
  forgetSent(): void {
    this.#sent.clear()
  }

  /**
   * The numbers `beginSeqNum..endSeqNum` no longer carry what was sent under them: gap-filled on the venue's
   * ResendRequest (the venue drops those messages; our SequenceReset-GapFill goes out under `beginSeqNum`) or never
   * written. A Reject naming one of them is not about the request once sent under it — a Reject of the GapFill itself
   * would otherwise be reported as the venue refusing that order, closing an order the venue may hold.
   */
  forgetSentRange(beginSeqNum: number, endSeqNum: number): void {
    for (const seqNum of [...this.#sent.keys()]) if (seqNum >= beginSeqNum && seqNum <= endSeqNum) this.#sent.delete(seqNum)
  }

  /**
   * Keeps the venue order id (and, for replaced orders, the new id and the OrderQty it states) so later cancels and
   * queries can name it. A replace without a positive OrderQty keeps the quantity egress sent in the amend (remembered
   * when it went out); one whose OrderQty is there but unreadable never gets here (reports.ts refuses it).
   */
  learn(report: ExecutionReport, message: FixMessage): void {
    if (report.kind === 'rejected') return
    const known = this.#facts.get(report.clientOrderId) ?? (report.origClientOrderId === undefined ? undefined : this.#facts.get(report.origClientOrderId))
    if (known === undefined) return
    const stated = report.kind === 'replaced' ? readPositive(message, Tag.OrderQty, 'OrderQty (38)') : null
    const qty = stated !== null && 'value' in stated ? (stated.value ?? known.qty) : known.qty
    if (known.clientOrderId === report.clientOrderId || report.kind === 'replaced') {
      this.remember({ ...known, clientOrderId: report.clientOrderId, qty, venueOrderId: report.venueOrderId })
    }
  }
}

function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next()
    if (oldest.done === true) return
    map.delete(oldest.value)
  }
}
