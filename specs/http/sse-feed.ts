/** An engine for hub specs whose durable batches the spec publishes itself (no log: streams open live). */

import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { StreamAuthority } from '../../src/http/sse/index.ts'
import type { Engine } from '../../src/runtime/engine.ts'

export type Batch = { event: DomainEvent; lsn: number }[]

/** `orders`: the hot state's orders (order id → account); none by default (every order retired). */
export function engineWithFeed(orders: Record<string, string> = {}): { engine: Engine; publish: (batch: Batch) => void } {
  let listener: ((batch: Batch) => void) | null = null
  const engine = {
    onDurable: (added: (batch: Batch) => void) => {
      listener = added
      return () => {}
    },
    wal: { lastLsn: 0, firstLsn: 1 },
    state: { orders: new Map(Object.entries(orders).map(([orderId, accountId]) => [orderId, { accountId }])) },
  } as unknown as Engine
  return { engine, publish: (batch) => listener?.(batch) }
}

/** An `order.canceled` of `orderId` at `lsn`, as a durable batch holds it. */
export const canceled = (orderId: string, lsn: number): Batch[number] => ({ lsn, event: { type: 'order.canceled', atMs: 1, orderId } as unknown as DomainEvent })

/** A token's authority that holds until `expired` is set (as TokenWatch says once the token is past its exp). */
export function expiringAuthority(): StreamAuthority & { expired: boolean } {
  return {
    expired: false,
    state() {
      return this.expired ? 'expired' : 'held'
    },
    check: () => Promise.resolve(true),
  }
}
