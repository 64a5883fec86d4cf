/**
 * A random driver of the kernel for the key window's specs (key-window-fuzz.test.ts): new orders and retries of their
 * keys, OCO lists and their repeats, flattens (some repeated), venue calls and answers, cancels, amends, fills, time
 * moving by minutes or hours, and (optionally) the window changed by config. Written by a review helper (s51).
 */

import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { KernelCommand } from '../../src/kernel/index.ts'
import type { VenueOutcome } from '../../src/venues/adapter.ts'
import { ACCOUNT, body, config, d, Harness, ops, paperFacts, placeCommand, policy, trader } from './fixtures.ts'
import { nextWork } from '../../src/kernel/index.ts'
import { prng } from '../wal/support.ts'
import { withoutKeyWindow } from '../runtime/snapshot/support.ts'

const W = 1_800_000
const SYMBOLS = [
  { symbol: 'BTC-USD', price: '50000', qty: '0.001' },
  { symbol: 'ETH-USD', price: '3000', qty: '0.01' },
] as const

export class KeyWindowDriver {
  h: Harness
  rand: () => number
  key = 0
  keys: { key: string; b: Record<string, unknown> }[] = []
  lists: { key: string; legs: Record<string, unknown>[] }[] = []
  flattens = 0
  windowMs = W
  constructor(seed: number, readonly windowChanges: boolean, adopting: boolean) {
    this.rand = prng(seed)
    this.h = Harness.funded({ config: adopting ? withoutKeyWindow(this.cfg()) : this.cfg() })
    this.h.run({ kind: 'fund', nowMs: this.h.nowMs, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('100000000'), reference: 'more' })
  }
  int(n: number): number { return Math.floor(this.rand() * n) }
  cfg() {
    return config({ policies: [policy({ maxOpenOrders: 100_000, instruments: ['sim:BTC-USD', 'sim:ETH-USD', 'sim:AAPL'] })], params: {
      idempotencyKeyHeldMs: this.windowMs, idempotencyKeysHeldMax: 25, terminalOrdersKeptMax: 3, terminalOrderRetireAfterMs: 10_000, terminalOrdersHeldMax: 6, lane2DepthMax: 100_000, callsPerInstrumentMax: 2,
    } })
  }
  mkt(price: string) { return { referencePrice: d(price), observedAtMs: this.h.nowMs, previousPrice: null } }
  step(): void {
    const r = this.rand()
    if (r < 0.2) this.placeNew()
    else if (r < 0.32) this.retry()
    else if (r < 0.45) this.pick()
    else if (r < 0.58) this.answer()
    else if (r < 0.66) this.cancel()
    else if (r < 0.7) this.amend()
    else if (r < 0.86) this.h.nowMs += this.rand() < 0.1 ? this.int(3 * W) : this.int(W / 4)
    else if (r < 0.92) this.placeList(this.rand() < 0.4 && this.lists.length > 0)
    else if (r < 0.95) this.flatten()
    else if (r < 0.97 && this.windowChanges) {
      this.windowMs = this.windowMs === W ? W * 2 : W
      this.h.run({ kind: 'configure', nowMs: this.h.nowMs, config: { ...this.cfg(), digest: `cfg-${this.windowMs}` } })
    } else this.fill()
  }
  placeNew(): void {
    const leg = SYMBOLS[this.int(2)]!
    const big = this.rand() < 0.1
    const b = body({ client_order_id: `k${this.key++}`, symbol: leg.symbol, qty: big ? '100000' : leg.qty, price: leg.price })
    this.keys.push({ key: b.client_order_id as string, b })
    this.h.run(placeCommand({ nowMs: this.h.nowMs, body: b, market: this.mkt(leg.price) }))
  }
  retry(): void {
    const k = this.keys[this.int(this.keys.length)]
    if (k === undefined) return
    const leg = SYMBOLS.find((s) => s.symbol === k.b.symbol)!
    this.h.run(placeCommand({ nowMs: this.h.nowMs, body: k.b, market: this.mkt(leg.price) }))
  }
  placeList(repeat: boolean): void {
    let entry = repeat ? this.lists[this.int(this.lists.length)]! : undefined
    if (entry === undefined) {
      const own = this.rand() < 0.5
      const n = this.key++
      entry = { key: `L${n}`, legs: [
        body({ side: 'buy', qty: '0.001', price: '49000', client_order_id: own ? `lk${n}a` : undefined }),
        body({ side: 'buy', qty: '0.001', price: '48000', client_order_id: own ? `lk${n}b` : undefined }),
      ] }
      this.lists.push(entry)
    }
    this.h.run({ kind: 'place_list', nowMs: this.h.nowMs, principal: trader, idempotencyKey: null, body: { type: 'oco', account: ACCOUNT, client_list_id: entry.key, orders: entry.legs },
      market: this.mkt('50000'), live: { credentialPresent: true, environmentLive: true, haLeader: true }, configDigest: 'cfg-1', buildCommit: 'test' } as KernelCommand)
  }
  flatten(): void {
    const markets = Object.fromEntries(SYMBOLS.map((l) => [`sim:${l.symbol}`, this.mkt(l.price)]))
    const id = this.rand() < 0.5 && this.flattens > 0 ? `f${this.int(this.flattens)}` : `f${this.flattens++}`
    this.h.run({ kind: 'flatten', nowMs: this.h.nowMs, principal: ops, accountId: ACCOUNT, flattenId: id, markets })
  }
  pick(): void {
    for (let n = 1 + this.int(4); n > 0; n--) {
      const item = nextWork(this.h.state, { nowMs: this.h.nowMs })
      if (item === null) return
      if (item.kind === 'reconcile') this.h.run({ kind: 'reconcile_result', nowMs: this.h.nowMs, orderId: item.orderId, venueOrder: null, trades: [] })
      else this.h.send(item.orderId, item.kind, paperFacts)
    }
  }
  answer(): void {
    const calls = [...this.h.state.inFlight.values()]
    const call = calls[this.int(calls.length)]
    if (call === undefined) return
    const roll = this.rand()
    const outcome: VenueOutcome<{ venueOrderId: string }> = roll < 0.7 ? { kind: 'ok', value: { venueOrderId: `v-${call.orderId}` } } : roll < 0.85 ? { kind: 'rejected', reason: 'no' } : { kind: 'unknown', reason: 'timeout' }
    const ack: VenueOutcome<{ accepted: true }> = outcome.kind === 'ok' ? { kind: 'ok', value: { accepted: true } } : outcome
    const nowMs = this.h.nowMs
    const command: KernelCommand = call.action === 'place' ? { kind: 'place_result', nowMs, orderId: call.orderId, outcome }
      : call.action === 'cancel' ? { kind: 'cancel_result', nowMs, orderId: call.orderId, outcome: ack } : { kind: 'amend_result', nowMs, orderId: call.orderId, outcome: ack }
    this.h.run(command)
  }
  randomOrder() { const ids = [...this.h.state.orders.keys()]; return ids[this.int(ids.length)] }
  cancel(): void { const id = this.randomOrder(); if (id !== undefined) this.h.cancel(id) }
  amend(): void {
    const id = this.randomOrder(); const o = id === undefined ? undefined : this.h.state.orders.get(id)
    if (id === undefined || o === undefined) return
    const leg = SYMBOLS.find((s) => s.symbol === o.symbol) ?? SYMBOLS[0]
    this.h.amend(id, { qty: leg.qty.replace(/1$/, '2') }, { market: this.mkt(leg.price) })
  }
  fill(): void {
    const open = [...this.h.state.orders.values()].filter((o) => o.status === 'AckedOpen' || o.status === 'Partial')
    const o = open[this.int(open.length)]
    if (o === undefined) return
    this.h.report({ venue: 'sim', clientOrderId: o.venueClientOrderId, venueOrderId: `v-${o.orderId}`, account: o.accountId, symbol: o.symbol, side: o.side,
      cumQty: o.qty, venueTimeMs: this.h.nowMs, execId: `e${this.key++}`, kind: 'fill', lastQty: o.qty - o.cumQty, lastPrice: o.price ?? d('50000') } as never)
  }
}

