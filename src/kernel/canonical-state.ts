/**
 * A canonical, deterministic serialisation of the whole kernel state, and its SHA-256 digest. "Replay from scratch
 * equals the live projection" is asserted by comparing digests. Queues keep their FIFO order (it is state); every
 * other collection is sorted by key.
 */

import { canonicalJson, sha256Hex, toCanonical, type JsonValue } from '../domain/canonical-json.ts'
import type { KernelState } from './state.ts'
import { keyWindowMs } from './key-window.ts'

export function canonicalState(state: KernelState): JsonValue {
  const { queues, terminalOrderIds, idempotency, orders, ...rest } = state
  return toCanonical({
    ...rest,
    // Each order but its cumNotionalRemainder (the exact notional's part below the unit, for the average fill price
    // only: src/domain/orders.ts), which a state read from a kernel-state snapshot older than format 26 holds as 0 where
    // replaying its log gives each real fill's: left out, so replay-verify and the HA digests agree however a node got
    // its state. Nothing the kernel decides reads it; cumNotional, which the ledger books, stays in.
    orders: new Map([...orders].map(([orderId, { cumNotionalRemainder: _, ...order }]) => [orderId, order])),
    // Without the key window an entry's time decides nothing, and a state restored from a snapshot older than the
    // times reads them as 0 (key-window.ts): left out, as before the window existed.
    idempotency: keyWindowMs(state) === null ? new Map([...idempotency].map(([key, { decidedAtMs: _, ...entry }]) => [key, entry])) : idempotency,
    // The order terminal orders ended in decides which are retired next: kept as a list too ([orderId, endedAtMs]).
    terminalOrderIds: [...terminalOrderIds].map(([orderId, endedAtMs]) => [orderId, endedAtMs]),
    // Map iteration order is FIFO order here; keep it as an ordered list instead of letting keys be sorted.
    queues: queues.map((queue) => [...queue].map(([orderId, kind]) => [orderId, kind])),
  })
}

export function stateDigest(state: KernelState): string {
  return sha256Hex(canonicalJson(canonicalState(state)))
}
