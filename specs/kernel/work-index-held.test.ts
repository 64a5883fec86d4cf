/**
 * Items the work index sets aside as held (src/kernel/work-index.ts) are looked at again only by picks that reach
 * their lane. With a venue unreachable every Unknown order's reconcile query backs off (held in Lane3): a pick that
 * ends in Lane0 — a cancel, a flatten close — must not look at each of them (it did, once per pick: ~0.2 ms per pick
 * with 5,000 held, where the walk of the queues took ~0.3 us), and a held query is still picked once released. The
 * read-backs of wanted cancels rank right after Lane0, so every pick of Lanes 1–2 reached them: one backing off is
 * set aside until its back-off's end instead (3,000 of them cost each pick of a place ~170 us). Likewise the work of
 * an order whose send decision threw, held while its wait runs and the order is unchanged (runtime/send-throws.ts):
 * held, a wave of n of them cost n²/2 looks.
 */

import { describe, expect, test } from 'bun:test'
import { nextDueMs, nextWork, noteHoldChanged } from '../../src/kernel/index.ts'
import { workIndexOf } from '../../src/kernel/work-index.ts'
import { config, d, Harness, policy, report } from './fixtures.ts'

/** A reconcile-held set that counts the questions asked of it. */
class CountingHeld {
  readonly ids = new Set<string>()
  questions = 0

  has(orderId: string): boolean {
    this.questions++
    return this.ids.has(orderId)
  }
}

describe('held items are looked at again only when their lane is', () => {
  test('with every reconcile query held, a Lane0 cancel is picked without asking about any of them, and a released query is picked after it', () => {
    const harness = Harness.funded()
    const held = new CountingHeld()
    for (let index = 0; index < 40; index++) {
      const orderId = harness.placedId({ client_order_id: `u${index}`, qty: '0.001' })
      harness.send(orderId)
      harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
      held.ids.add(orderId)
    }
    expect(harness.state.queues[3].size).toBe(40)
    // Late enough for every reconcile query to be due: each one is held by the executor (backing off), none picked.
    const options = { nowMs: harness.nowMs + 3_600_000, reconcileHeld: held }
    expect(nextWork(harness.state, options)).toBeNull()
    expect(workIndexOf(harness.state).sizes().held).toBe(40)

    const open = harness.openOrder({ client_order_id: 'open', qty: '0.001' })
    harness.cancel(open)
    held.questions = 0
    expect(nextWork(harness.state, options)).toMatchObject({ lane: 0, kind: 'cancel', orderId: open })
    expect(held.questions).toBe(0)

    harness.nowMs = options.nowMs
    harness.send(open, 'cancel')
    const [released] = held.ids
    held.ids.delete(released as string)
    expect(nextWork(harness.state, options)).toMatchObject({ lane: 3, kind: 'reconcile', orderId: released })
  })
})

describe('read-backs backing off are set aside until their back-off ends', () => {
  test('with every wanted cancel\'s read-back backing off, a Lane2 place is picked without asking about any of them, and each is picked after Lane0 once its back-off ends', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 1_000 })] }) })
    const nowMs = harness.nowMs + 3_600_000
    // As the executor's holds answer (reconcile-holds.ts): held while the back-off runs past the pick's time.
    const untilMs = new Map<string, number>()
    let pickNowMs = nowMs
    let questions = 0
    const reconcileHeld = {
      has: (orderId: string) => {
        questions++
        return (untilMs.get(orderId) ?? 0) > pickNowMs
      },
    }
    const pick = (atMs: number, busy: Set<string> = new Set()) => {
      pickNowMs = atMs
      return nextWork(harness.state, { nowMs: atMs, busy, reconcileHeld, reconcileHeldUntilMs: (orderId: string) => untilMs.get(orderId) ?? 0 })
    }
    const lostCancels: string[] = []
    for (let index = 0; index < 40; index++) {
      const orderId = harness.openOrder({ client_order_id: `c${index}`, qty: '0.001' })
      harness.cancel(orderId)
      harness.send(orderId, 'cancel')
      harness.cancelResult(orderId, { kind: 'unknown', reason: 'timeout' })
      lostCancels.push(orderId)
      untilMs.set(orderId, nowMs + 1_000 + index)
    }
    expect(pick(nowMs)).toBeNull()
    const place = harness.placedId({ client_order_id: 'place', qty: '0.001' })
    // The read-backs of wanted cancels rank ahead of Lane2: held, each was looked at again by every pick of a place.
    questions = 0
    for (let count = 0; count < 10; count++) expect(pick(nowMs)).toMatchObject({ lane: 2, orderId: place })
    expect(questions).toBe(0)
    expect(nextDueMs(harness.state)).toBe(nowMs + 1_000)

    // A shorter back-off set for one (told to the kernel) ends first: its read-back goes ahead of the place then.
    const [first, second] = lostCancels as [string, string]
    untilMs.set(second, nowMs + 500)
    noteHoldChanged(harness.state, second)
    expect(pick(nowMs + 499)).toMatchObject({ lane: 2, orderId: place })
    expect(pick(nowMs + 500)).toMatchObject({ lane: 3, kind: 'reconcile', orderId: second })
    // The first's back-off ends.
    expect(pick(nowMs + 1_000, new Set([second]))).toMatchObject({ lane: 3, kind: 'reconcile', orderId: first })
  })
})

describe('work whose send decision threw is set aside until its wait ends, or a record of its order', () => {
  /** As the executor's (send-throws.ts): the wait's end while the order is as it was at the throw, else 0. */
  function sendHolds(harness: Harness) {
    const holds = new Map<string, { updatedAtMs: number; status: string; untilMs: number }>()
    const counted = { questions: 0 }
    const sendHeldUntilMs = (orderId: string): number => {
      counted.questions++
      const hold = holds.get(orderId)
      const order = harness.state.orders.get(orderId)
      return hold !== undefined && order?.status === hold.status && order.updatedAtMs === hold.updatedAtMs ? hold.untilMs : 0
    }
    const threw = (orderId: string, untilMs: number) => {
      const order = harness.order(orderId)
      holds.set(orderId, { updatedAtMs: order.updatedAtMs, status: order.status, untilMs })
    }
    return { counted, sendHeldUntilMs, threw }
  }

  test('with 40 places held, a pick looks at each once, not at every pick, and each is picked once its wait ends', () => {
    const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 1_000 })] }) })
    const { counted, sendHeldUntilMs, threw } = sendHolds(harness)
    const nowMs = harness.nowMs
    const held: string[] = []
    for (let index = 0; index < 40; index++) {
      const orderId = harness.placedId({ client_order_id: `t${index}`, qty: '0.001' })
      threw(orderId, nowMs + 100 + index)
      held.push(orderId)
    }
    const free = harness.placedId({ client_order_id: 'free', qty: '0.001' })
    expect(nextWork(harness.state, { nowMs, sendHeldUntilMs })).toMatchObject({ kind: 'place', orderId: free })
    expect(counted.questions).toBeLessThanOrEqual(2 * 41)
    counted.questions = 0
    for (let count = 0; count < 10; count++) expect(nextWork(harness.state, { nowMs, sendHeldUntilMs })).toMatchObject({ orderId: free })
    // Asked only about the item picked: held, each of the 40 was asked about again at every pick.
    expect(counted.questions).toBe(10)
    expect(workIndexOf(harness.state).sizes().held).toBe(0)
    expect(nextDueMs(harness.state)).toBe(nowMs + 100)
    expect(nextWork(harness.state, { nowMs: nowMs + 99, sendHeldUntilMs })).toMatchObject({ orderId: free })
    expect(nextWork(harness.state, { nowMs: nowMs + 100, sendHeldUntilMs })).toMatchObject({ orderId: held[0] })
    expect(nextWork(harness.state, { nowMs: nowMs + 139, sendHeldUntilMs })).toMatchObject({ orderId: held[0] })
  })

  test('a record of the order that leaves its work where it is (a fill of an order whose amend threw) ends the wait at once', () => {
    const harness = Harness.funded()
    const { sendHeldUntilMs, threw } = sendHolds(harness)
    const orderId = harness.openOrder({ client_order_id: 'amended', qty: '0.1' })
    harness.amend(orderId, { qty: '0.2' })
    const nowMs = harness.nowMs
    expect(nextWork(harness.state, { nowMs, sendHeldUntilMs })).toMatchObject({ kind: 'amend', orderId })
    threw(orderId, nowMs + 10_000)
    expect(nextWork(harness.state, { nowMs, sendHeldUntilMs })).toBeNull()
    expect(nextDueMs(harness.state)).toBe(nowMs + 10_000)
    harness.nowMs += 1
    harness.report(report(harness.order(orderId), { execId: 'f1', kind: 'fill', venueOrderId: `v-${orderId}`, lastQty: d('0.01'), lastPrice: d('50000'), cumQty: d('0.01') }))
    expect(harness.order(orderId)).toMatchObject({ status: 'Partial', amend: { stage: 'requested' } })
    expect(nextWork(harness.state, { nowMs: harness.nowMs, sendHeldUntilMs })).toMatchObject({ kind: 'amend', orderId })
  })
})
