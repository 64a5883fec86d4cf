/**
 * The executor's per venue×symbol queues (executor.ts; DESIGN §6 ordered pipelining): the places and amends it
 * decided and has not yet handed to the adapter, in decision order. Each leaves its queue only from the head, once its
 * send record is durable (or its commit failed). Cancels never queue here: they go as soon as durable.
 */

import type { Dispatch } from './executor-options.ts'

export class DispatchQueues {
  /**
   * Per venue, per symbol, places and amends decided and not yet handed to the adapter, in decision order. Found
   * without a `venue:symbol` key string, and kept once empty: one array per instrument the executor sent to, not one
   * per send (the instruments are the configured ones).
   */
  private readonly queues = new Map<string, Map<string, Dispatch[]>>()

  /** The queue of `venue`×`symbol`, made if there is none. */
  queueFor(venue: string, symbol: string): Dispatch[] {
    let bySymbol = this.queues.get(venue)
    if (bySymbol === undefined) {
      bySymbol = new Map()
      this.queues.set(venue, bySymbol)
    }
    let queue = bySymbol.get(symbol)
    if (queue === undefined) {
      queue = []
      bySymbol.set(symbol, queue)
    }
    return queue
  }

  /**
   * Hands an instrument's durable places and amends to `dispatch` from the head of its queue, so the venue sees
   * them in decision order even though their records' commits (and answers) may complete in any order.
   */
  dispatchDurable(queue: Dispatch[], dispatch: (head: Dispatch) => void): void {
    while (queue.length > 0) {
      const head = queue[0] as Dispatch
      if (head.events === null && !head.failed) return
      queue.shift()
      dispatch(head)
    }
  }
}
