/** An engine for hub specs whose durable batches the spec publishes itself (no log: streams open live). */

import type { DomainEvent } from '../../src/domain/events/index.ts'
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
