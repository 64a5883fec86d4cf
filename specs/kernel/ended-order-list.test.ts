/**
 * The list beside state.terminalOrderIds (src/kernel/ended-order-list.ts) and the retirement walk that follows it
 * (src/kernel/retention.ts): the list always holds the Map's entries in the Map's order, and retirement retires
 * exactly what the walk over the Map itself retired (kept here as the reference), through random ends, reopens,
 * busy orders, graces and the legacy rule.
 */

import { describe, expect, test } from 'bun:test'
import type { Order } from '../../src/domain/orders.ts'
import { addEnded, entryEndedAtMs, oldestEnded, removeEnded, retireEnded, type EndedEntry } from '../../src/kernel/ended-order-list.ts'
import { retainTerminal } from '../../src/kernel/retention.ts'
import type { KernelState } from '../../src/kernel/state.ts'
import { config, Harness } from './fixtures.ts'

function listed(ended: Map<string, number>): [string, number][] {
  const entries: [string, number][] = []
  for (let entry: EndedEntry | null = oldestEnded(ended); entry !== null; entry = entry.next) entries.push([entry.orderId, entry.endedAtMs])
  return entries
}

/** A small deterministic generator (mulberry32), so a failure names its seed. */
function randomOf(seed: number): (below: number) => number {
  let a = seed >>> 0
  return (below) => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below)
  }
}

describe('ended-order list', () => {
  test('follows the Map through adds, removals and retirements, in the Map order', () => {
    const random = randomOf(7)
    const ended = new Map<string, number>()
    for (let step = 0; step < 5_000; step++) {
      const orderId = `o${random(60)}`
      const choice = random(3)
      if (choice === 0) {
        if (!ended.has(orderId)) addEnded(ended, orderId, step)
      } else if (choice === 1) {
        removeEnded(ended, orderId)
      } else {
        const oldest = oldestEnded(ended)
        if (oldest !== null) retireEnded(ended, random(2) === 0 ? oldest : (oldest.next ?? oldest))
      }
      expect(listed(ended)).toEqual([...ended])
    }
  })

  test('a Map it has not seen (a restored snapshot, a clone) is read in its own order', () => {
    const ended = new Map<string, number>([['c', 3], ['a', 1], ['b', 2]])
    expect(listed(ended)).toEqual([['c', 3], ['a', 1], ['b', 2]])
    const clone = new Map(ended)
    addEnded(clone, 'd', 4)
    expect(listed(clone)).toEqual([['c', 3], ['a', 1], ['b', 2], ['d', 4]])
    expect(listed(ended)).toEqual([['c', 3], ['a', 1], ['b', 2]])
  })

  test('an entry changed behind its back fails an assertion instead of being acted on', () => {
    const ended = new Map<string, number>()
    addEnded(ended, 'a', 1)
    ended.set('a', 5)
    const oldest = oldestEnded(ended)
    expect(oldest).not.toBeNull()
    if (oldest !== null) expect(() => entryEndedAtMs(ended, oldest)).toThrow('terminalOrderIds changed outside')
  })
})

/**
 * The retirement rule as it was written against the Map (before the list), for comparison, with the rule the log
 * adopted (kernel.retire_rule_adopted): an order with an event at this instant is skipped like a busy one.
 */
function referenceRetain(
  model: Map<string, number>,
  change: { orderId: string; wasTerminal: boolean; terminal: boolean; atMs: number },
  rule: { keptMax: number; graceMs: number | null },
  busy: (orderId: string) => boolean,
  touchedNow: (orderId: string) => boolean,
): string[] {
  const retired: string[] = []
  const ended = change.terminal && !change.wasTerminal
  if (ended) model.set(change.orderId, change.atMs)
  else if (!change.terminal && change.wasTerminal) model.delete(change.orderId)
  if (model.size <= rule.keptMax) return retired
  if (rule.graceMs === null) {
    if (!ended) return retired
    while (model.size > rule.keptMax) {
      const oldest = model.keys().next().value as string
      if (busy(oldest)) return retired
      model.delete(oldest)
      retired.push(oldest)
    }
    return retired
  }
  let excess = model.size - rule.keptMax
  const due: string[] = []
  for (const [orderId, endedAtMs] of model) {
    if (excess <= 0 || change.atMs - endedAtMs < rule.graceMs) break
    if (busy(orderId) || touchedNow(orderId)) continue
    due.push(orderId)
    excess--
  }
  for (const orderId of due) model.delete(orderId)
  return due
}

describe('retirement over the list', () => {
  test.each([
    [1, 0],
    [2, 40],
    [3, null],
    [4, 200],
  ])('retires what the walk over the Map retired (seed %d, grace %p ms)', (seed, graceMs) => {
    const random = randomOf(seed)
    const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 6, terminalOrderRetireAfterMs: graceMs } }) })
    const template = harness.order(harness.placedId({ client_order_id: 'template' }))
    const state: KernelState = harness.state
    state.orders.clear()
    const model = new Map<string, number>()
    const modelOrders = new Set<string>()
    const touchedAtMs = new Map<string, number>()
    let atMs = 0
    for (let step = 0; step < 4_000; step++) {
      atMs += random(30)
      const orderId = `o${random(40)}`
      const choice = random(4)
      if (choice === 0) {
        // The order's call starts or ends: an in-flight call makes it busy.
        if (state.inFlight.has(orderId)) state.inFlight.delete(orderId)
        else state.inFlight.set(orderId, { orderId, action: 'place' })
        continue
      }
      let order = state.orders.get(orderId)
      if (order === undefined) {
        order = { ...template, orderId, status: 'AckedOpen' }
        state.orders.set(orderId, order)
        modelOrders.add(orderId)
      }
      const wasTerminal = order.status === 'Canceled'
      // choice 1: the order ends (or stays ended); 2: it reopens (a late Unknown); 3: an event that changes neither.
      const terminal = choice === 1 ? true : choice === 2 ? false : wasTerminal
      order.status = terminal ? 'Canceled' : 'Unknown'
      // As apply does for every order event (the retirement rule reads it).
      order.updatedAtMs = atMs
      touchedAtMs.set(orderId, atMs)
      retainTerminal(state, order, wasTerminal, atMs)
      const retired = referenceRetain(model, { orderId, wasTerminal, terminal, atMs }, { keptMax: 6, graceMs }, (id) => state.inFlight.has(id), (id) => touchedAtMs.get(id) === atMs)
      for (const id of retired) modelOrders.delete(id)
      expect([...state.terminalOrderIds]).toEqual([...model])
      expect(listed(state.terminalOrderIds)).toEqual([...model])
      expect([...state.orders.keys()].sort()).toEqual([...modelOrders].sort())
    }
  })
})
