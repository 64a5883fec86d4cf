/**
 * The executor's per venue×symbol queues (executor.ts; DESIGN §6 ordered pipelining): the places and amends it
 * decided and has not yet handed to the adapter, in decision order. Each leaves its queue only from the head, once its
 * send record is durable (or its commit failed). Cancels never queue here: they go as soon as durable.
 */

import type { Dispatch } from './executor-options.ts'

export class DispatchQueues {
  /** Per venue×symbol, places and amends decided and not yet handed to the adapter, in decision order. */
  private readonly dispatchQueues = new Map<string, Dispatch[]>()

  /** The queue of `key` (instrumentKey: venue×symbol), made if there is none. */
  queueFor(key: string): Dispatch[] {
    let queue = this.dispatchQueues.get(key)
    if (queue === undefined) {
      queue = []
      this.dispatchQueues.set(key, queue)
    }
    return queue
  }

  /**
   * Hands an instrument's durable places and amends to `dispatch` from the head of its queue, so the venue sees
   * them in decision order even though their records' commits (and answers) may complete in any order.
   */
  dispatchDurable(key: string, queue: Dispatch[], dispatch: (head: Dispatch) => void): void {
    while (queue.length > 0) {
      const head = queue[0] as Dispatch
      if (head.events === null && !head.failed) return
      queue.shift()
      dispatch(head)
    }
    this.dispatchQueues.delete(key)
  }
}
