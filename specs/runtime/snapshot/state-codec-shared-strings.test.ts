import { afterAll, describe, expect, test } from 'bun:test'
import { heapStats } from 'bun:jsc'
import { stateDigest, type KernelState } from '../../../src/kernel/index.ts'
import { kernelStateBytes, kernelStateFromBytes } from '../../../src/runtime/snapshot/index.ts'
import { removeDir, type World } from '../harness.ts'
import { tradedWorld } from './support.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

/** Strings on the heap once collections stop freeing any (a single one may leave garbage a later one frees). */
function stringCells(): number {
  let previous = -1
  for (let pass = 0; pass < 6; pass++) {
    Bun.gc(true)
    const now = (heapStats().objectTypeCounts as Record<string, number>)['string'] ?? 0
    if (now === previous) return now
    previous = now
  }
  return (heapStats().objectTypeCounts as Record<string, number>)['string'] ?? 0
}

/**
 * src/kernel/shared-strings.ts: a decoded state holds each held order's id once, as applying events leaves it — the
 * idempotency entry of a held order names it by the order's own string, not by a copy the idempotency columns made.
 * Strings are compared by value in JavaScript, so what shows the sharing is the heap: dropping the entries of held
 * orders frees no order id.
 */
describe('a restored kernel state', () => {
  test('names a held order in its idempotency entry by the order\'s own id string, with the same digest and bytes', async () => {
    const world = await tradedWorld(21)
    worlds.push(world)
    const live = world.gateway.engine.state
    const bytes = kernelStateBytes(live)
    const restored: KernelState[] = []
    for (let copy = 0; copy < 250; copy++) restored.push(kernelStateFromBytes(bytes))
    const decoded = restored[0] as KernelState
    expect(stateDigest(decoded)).toBe(stateDigest(live))
    expect(kernelStateBytes(decoded)).toEqual(bytes)
    const heldKeys = [...live.idempotency].filter(([, entry]) => live.orders.has(entry.orderId)).map(([key]) => key)
    expect(heldKeys.length).toBeGreaterThan(10)
    // Nothing else may free strings between the two counts: the world's timers and venue stop first (under the whole
    // suite its activity freed enough to pass the bound).
    await world.gateway.stop()
    const before = stringCells()
    for (const state of restored) for (const key of heldKeys) state.idempotency.delete(key)
    // A held order's entry frees its key and its body digest; its order id, the order's own string, stays (3 if a copy).
    expect((before - stringCells()) / (restored.length * heldKeys.length)).toBeLessThan(2.5)
  })
})
