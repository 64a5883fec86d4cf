/**
 * One account's own kill switch (src/kernel/account-switch.ts; the auto-stop's order_rate trip with scope account):
 * it does to that account what the gateway's switch does to all — its places and amends waiting to be sent end as it
 * engages (ACCOUNT_HALTED / ACCOUNT_CANCEL_ONLY), its new orders and amends are refused at intake, its cancels pass —
 * and leaves every other account alone. Operators only; RESUME of an account not stopped decides nothing; the
 * gateway's RESUME lifts it.
 */

import { describe, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import type { KillSwitchAction } from '../../src/domain/modes.ts'
import { ACCOUNT, config, d, Harness, market, ops, policy, T0, trader } from './fixtures.ts'

const OTHER = 'acct-2'
const otherTrader: Principal = { id: 'bob', roles: ['trader'], accounts: [OTHER], liveAllowed: true }

function twoAccounts(): Harness {
  const harness = Harness.funded({ config: config({ policies: [policy(), policy({ accountId: OTHER })] }) })
  harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: OTHER, asset: 'USD', amount: d('100000'), reference: 'config' })
  return harness
}

function accountSwitch(harness: Harness, action: KillSwitchAction, accountId = ACCOUNT, principal: Principal = ops) {
  return harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal, action, note: 'auto-stop order_rate: test', accountId, ordersMax: 100 })
}

describe("an account's own kill switch", () => {
  for (const [action, reason] of [['HALT', 'ACCOUNT_HALTED'], ['CANCEL_ONLY', 'ACCOUNT_CANCEL_ONLY']] as const) {
    test(`${action}: the account's waiting place ends ${reason}, its new orders are refused ${reason}; the other account's are untouched and accepted`, () => {
      const harness = twoAccounts()
      const mine = harness.placedId({ client_order_id: 'mine' })
      const theirs = harness.placedId({ account: OTHER, client_order_id: 'theirs' }, { principal: otherTrader })
      const decision = accountSwitch(harness, action)
      expect(harness.eventTypes(decision)).toEqual(['order.canceled', 'account.switch_changed'])
      expect(harness.order(mine)).toMatchObject({ status: 'Canceled', lastReason: reason })
      expect(harness.order(theirs).status).toBe('Enqueued')
      expect(harness.state.tradingSwitch).toBe('normal')
      expect(harness.state.accountSwitches.get(ACCOUNT)).toMatchObject({ switch: action === 'HALT' ? 'halted' : 'cancel_only', principalId: ops.id })
      expect(harness.place({ client_order_id: 'refused' }).reply).toMatchObject({ kind: 'rejected', reason })
      expect(harness.place({ account: OTHER, client_order_id: 'theirs-2' }, { principal: otherTrader }).reply).toMatchObject({ kind: 'accepted' })
      expect(harness.next()).toMatchObject({ kind: 'place', orderId: theirs })
    })
  }

  test("an amend of the stopped account is refused at intake; its cancel passes", () => {
    const harness = twoAccounts()
    const open = harness.openOrder({ client_order_id: 'open' })
    accountSwitch(harness, 'HALT')
    expect(harness.amend(open, { qty: '0.2' }).reply).toMatchObject({ kind: 'rejected', reason: 'ACCOUNT_HALTED' })
    expect(harness.cancel(open).events.map((event) => event.type)).toContain('order.cancel_requested')
    expect(harness.next()).toMatchObject({ kind: 'cancel', orderId: open })
  })

  test('only an operator engages or lifts it; RESUME of an account not stopped decides nothing; the same switch again decides nothing new', () => {
    const harness = twoAccounts()
    expect(accountSwitch(harness, 'HALT', ACCOUNT, trader).reply).toMatchObject({ kind: 'refused', reason: 'PERMISSION_DENIED' })
    expect(accountSwitch(harness, 'RESUME').events).toEqual([])
    accountSwitch(harness, 'HALT')
    expect(accountSwitch(harness, 'HALT').events).toEqual([])
    expect(harness.state.accountSwitches.get(ACCOUNT)?.switch).toBe('halted')
    expect(accountSwitch(harness, 'CANCEL_ONLY', ACCOUNT, trader).reply).toMatchObject({ kind: 'refused', reason: 'PERMISSION_DENIED' })
    expect(harness.state.accountSwitches.get(ACCOUNT)?.switch).toBe('halted')
    expect(accountSwitch(harness, 'RESUME', ACCOUNT, trader).reply).toMatchObject({ kind: 'refused', reason: 'PERMISSION_DENIED' })
    expect(harness.eventTypes(accountSwitch(harness, 'RESUME'))).toEqual(['account.switch_changed'])
    expect(harness.state.accountSwitches.size).toBe(0)
    expect(harness.place({ client_order_id: 'after' }).reply).toMatchObject({ kind: 'accepted' })
  })

  test("the gateway's RESUME lifts every account's own switch, its own switch normal or not", () => {
    const harness = twoAccounts()
    accountSwitch(harness, 'HALT')
    accountSwitch(harness, 'CANCEL_ONLY', OTHER)
    const resumed = harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'all clear', ordersMax: 100 })
    expect(resumed.events.map((event) => (event.type === 'account.switch_changed' ? `${event.accountId} ${event.action}` : event.type))).toEqual([`${ACCOUNT} RESUME`, `${OTHER} RESUME`])
    expect(harness.state.accountSwitches.size).toBe(0)
    accountSwitch(harness, 'HALT')
    harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'HALT', note: 'everything', ordersMax: 100 })
    const both = harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'all clear', ordersMax: 100 })
    expect(harness.eventTypes(both)).toEqual(['account.switch_changed', 'switch.changed'])
    expect(harness.state.accountSwitches.size).toBe(0)
    expect(harness.state.tradingSwitch).toBe('normal')
  })
})

describe("a stopped account's held work does not hold up another account's", () => {
  test("a flatten's close held under the account's CANCEL_ONLY does not stop another account's close on the same instrument from being picked", () => {
    const harness = twoAccounts()
    harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: OTHER, asset: 'BTC', amount: d('1'), reference: 'config' })
    accountSwitch(harness, 'CANCEL_ONLY')
    const markets = { 'sim:BTC-USD': market('50000') }
    harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-held', markets })
    harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: OTHER, flattenId: 'f-other', markets })
    const closes = [...harness.state.orders.values()].filter((order) => order.flattenId !== null)
    const held = closes.find((order) => order.accountId === ACCOUNT)
    const other = closes.find((order) => order.accountId === OTHER)
    expect(held?.lane).toBe(0)
    expect(other?.lane).toBe(0)
    // acct-1's close was queued first, on the same venue×symbol and lane: it waits, acct-2's goes.
    expect(harness.next()).toMatchObject({ kind: 'place', orderId: other?.orderId })
    harness.send(other?.orderId as string)
    expect(harness.next()).toBeNull()
    // Lifted, the held close goes.
    accountSwitch(harness, 'RESUME')
    expect(harness.next()).toMatchObject({ kind: 'place', orderId: held?.orderId })
  })
})

describe("the gateway's RESUME in parts lifts many accounts' switches within each part's records", () => {
  const ORDERS_MAX = 3
  const STOPPED = 8
  const accountIds = Array.from({ length: STOPPED }, (_, index) => `acct-s${index}`)

  function manyStopped(): Harness {
    const harness = Harness.funded({ config: config({ policies: [policy(), ...accountIds.map((accountId) => policy({ accountId }))] }) })
    for (const accountId of accountIds) accountSwitch(harness, 'HALT', accountId)
    return harness
  }

  function resumeParts(harness: Harness): string[][] {
    const parts: string[][] = []
    for (let part = 0; part < 20; part++) {
      const decided = harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'all clear', ordersMax: ORDERS_MAX })
      if (decided.events.length === 0) break
      parts.push(harness.eventTypes(decided))
    }
    return parts
  }

  test(`${STOPPED} accounts stopped, ordersMax ${ORDERS_MAX}: no part lifts more than ${ORDERS_MAX}; the trading switch is lifted with the last`, () => {
    const harness = manyStopped()
    harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'HALT', note: 'everything', ordersMax: ORDERS_MAX })
    const parts = resumeParts(harness)
    expect(parts.map((types) => types.length)).toEqual([3, 3, 3])
    expect(parts.at(-1)).toEqual(['account.switch_changed', 'account.switch_changed', 'switch.changed'])
    expect(parts.slice(0, -1).flat().every((type) => type === 'account.switch_changed')).toBe(true)
    expect(harness.state.accountSwitches.size).toBe(0)
    expect(harness.state.tradingSwitch).toBe('normal')
  })

  test(`the trading switch normal: the accounts are lifted ${ORDERS_MAX} per part, by account id`, () => {
    const harness = manyStopped()
    const lifted: string[] = []
    for (let part = 0; part < 20; part++) {
      const decided = harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'all clear', ordersMax: ORDERS_MAX })
      if (decided.events.length === 0) break
      expect(decided.events.length).toBeLessThanOrEqual(ORDERS_MAX)
      for (const event of decided.events) if (event.type === 'account.switch_changed') lifted.push(event.accountId)
    }
    expect(lifted).toEqual(accountIds)
    expect(harness.state.accountSwitches.size).toBe(0)
  })

  test('a RESUME without parts (an older leader\'s command) still lifts every account in one decision', () => {
    const harness = manyStopped()
    const decided = harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'RESUME', note: 'all clear' })
    expect(decided.events.length).toBe(STOPPED)
    expect(harness.state.accountSwitches.size).toBe(0)
  })
})

/**
 * An operator moving an account's own switch (POST /v1/accounts/:id/halt | cancel-only): the breaker's CANCEL_ONLY
 * holds a flatten's closes, and HALT must let them out without lifting the stop (the account's RESUME let its bot
 * trade again). The move is one account.switch_changed naming the operator; the account stays stopped throughout.
 */
describe("an operator moves an account's own switch from one to the other", () => {
  const markets = { 'sim:BTC-USD': market('50000') }
  const breaker: Principal = { id: 'egress-auto-stop', roles: ['ops'], accounts: [], liveAllowed: false }

  test("CANCEL_ONLY -> HALT: the flatten's held close goes, new orders stay refused; HALT -> CANCEL_ONLY holds closes again", () => {
    const harness = twoAccounts()
    accountSwitch(harness, 'CANCEL_ONLY', ACCOUNT, breaker)
    harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets })
    const close = [...harness.state.orders.values()].find((order) => order.flattenId !== null && order.accountId === ACCOUNT)
    const closeId = close?.orderId ?? ''
    expect(harness.next()).toBeNull()
    const moved = harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action: 'HALT', note: 'let the closes out', accountId: ACCOUNT, ordersMax: 100 })
    expect(moved.events).toEqual([expect.objectContaining({ type: 'account.switch_changed', accountId: ACCOUNT, action: 'HALT', switch: 'halted', principalId: ops.id, note: 'let the closes out' })])
    expect(harness.state.accountSwitches.get(ACCOUNT)).toMatchObject({ switch: 'halted', principalId: ops.id })
    expect(harness.place({ client_order_id: 'still-refused', side: 'sell' }).reply).toMatchObject({ kind: 'rejected', reason: 'ACCOUNT_HALTED' })
    expect(harness.next()).toMatchObject({ kind: 'place', orderId: closeId })
    // Back to CANCEL_ONLY before it was sent: held again.
    expect(harness.eventTypes(accountSwitch(harness, 'CANCEL_ONLY'))).toEqual(['account.switch_changed'])
    expect(harness.state.accountSwitches.get(ACCOUNT)?.switch).toBe('cancel_only')
    expect(harness.next()).toBeNull()
    expect(harness.send(closeId).reply).toMatchObject({ kind: 'refused', reason: 'ACCOUNT_CANCEL_ONLY' })
    expect(harness.place({ client_order_id: 'refused-again', side: 'sell' }).reply).toMatchObject({ kind: 'rejected', reason: 'ACCOUNT_CANCEL_ONLY' })
  })

  test('a move ends the waiting work a cut-short stop left, with the new switch’s code, before its record', () => {
    const harness = twoAccounts()
    const first = harness.placedId({ client_order_id: 'first' })
    const second = harness.placedId({ client_order_id: 'second' })
    // A stop whose parts were cut short after its first (one order per part): the second place is left waiting.
    harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: breaker, action: 'CANCEL_ONLY', note: 'auto-stop order_rate: test', accountId: ACCOUNT, ordersMax: 1 })
    const ended = [first, second].filter((orderId) => harness.order(orderId).status === 'Canceled')
    expect(ended.length).toBe(1)
    const left = ended[0] === first ? second : first
    expect(harness.eventTypes(accountSwitch(harness, 'HALT'))).toEqual(['order.canceled', 'account.switch_changed'])
    expect(harness.order(left)).toMatchObject({ status: 'Canceled', lastReason: 'ACCOUNT_HALTED' })
  })
})

/**
 * A flatten's closes under each switch (send.ts switchHolds). The account's own switch does what the gateway's does in
 * the same state, deliberately: HALT lets the closes go, CANCEL_ONLY holds them until RESUME, since "only cancels reach
 * the venue" is what CANCEL_ONLY means and the one thing that sets it apart from HALT (an operator who wants a stopped
 * account's closes out configures the breaker's action HALT).
 */
describe("a flatten's closes under the account's own switch go as under the gateway's in the same state", () => {
  const markets = { 'sim:BTC-USD': market('50000') }

  function flattened(stop: (harness: Harness) => void): { harness: Harness; closeId: string } {
    const harness = twoAccounts()
    stop(harness)
    harness.run({ kind: 'flatten', nowMs: harness.nowMs, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets })
    const close = [...harness.state.orders.values()].find((order) => order.flattenId !== null && order.accountId === ACCOUNT)
    if (close === undefined) throw new Error('the flatten wrote no close')
    return { harness, closeId: close.orderId }
  }
  const gateway = (action: KillSwitchAction) => (harness: Harness) => void harness.run({ kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, action, note: 'test', ordersMax: 100 })
  const account = (action: KillSwitchAction) => (harness: Harness) => void accountSwitch(harness, action)

  for (const [name, stop] of [['the gateway\'s HALT', gateway('HALT')], ["the account's HALT", account('HALT')]] as const) {
    test(`under ${name} the close is sent`, () => {
      const { harness, closeId } = flattened(stop)
      expect(harness.next()).toMatchObject({ kind: 'place', orderId: closeId })
      expect(harness.eventTypes(harness.send(closeId))).toContain('order.send_requested')
    })
  }

  for (const [name, stop, reason] of [['the gateway\'s CANCEL_ONLY', gateway('CANCEL_ONLY'), 'KILL_SWITCH_CANCEL_ONLY'], ["the account's CANCEL_ONLY", account('CANCEL_ONLY'), 'ACCOUNT_CANCEL_ONLY']] as const) {
    test(`under ${name} the close is accepted and held (${reason}) until RESUME`, () => {
      const { harness, closeId } = flattened(stop)
      expect(harness.next()).toBeNull()
      expect(harness.send(closeId).reply).toMatchObject({ kind: 'refused', reason })
      expect(harness.order(closeId).status).toBe('Enqueued')
    })
  }

  test("under the gateway's HALT and the account's own CANCEL_ONLY, the account's switch holds the close and the refusal names it", () => {
    const { harness, closeId } = flattened((stopping) => {
      account('CANCEL_ONLY')(stopping)
      gateway('HALT')(stopping)
    })
    expect(harness.next()).toBeNull()
    expect(harness.send(closeId).reply).toEqual({ kind: 'refused', reason: 'ACCOUNT_CANCEL_ONLY', detail: `account ${ACCOUNT}'s own switch is cancel_only` })
    // Lifted, the account's close goes under the gateway's HALT, as a close does.
    accountSwitch(harness, 'RESUME')
    expect(harness.next()).toMatchObject({ kind: 'place', orderId: closeId })
  })
})

describe("an account's own switch names the config and build it was decided under (payload version 13)", () => {
  test("its engaging, its own RESUME and the gateway's RESUME lifting it carry configDigest and buildCommit", () => {
    const harness = twoAccounts()
    const digest = harness.state.config?.digest
    expect(digest).toBeString()
    const switched = (decision: ReturnType<Harness['run']>) => decision.events.filter((event) => event.type === 'account.switch_changed')
    const stop = { kind: 'kill_switch', nowMs: harness.nowMs, principal: ops, note: 'auto-stop order_rate: test', ordersMax: 100, buildCommit: 'build-1' } as const
    expect(switched(harness.run({ ...stop, action: 'HALT', accountId: ACCOUNT }))).toEqual([expect.objectContaining({ accountId: ACCOUNT, configDigest: digest, buildCommit: 'build-1' })])
    expect(switched(harness.run({ ...stop, action: 'RESUME', accountId: ACCOUNT }))).toEqual([expect.objectContaining({ switch: 'normal', configDigest: digest, buildCommit: 'build-1' })])
    harness.run({ ...stop, action: 'CANCEL_ONLY', accountId: OTHER })
    expect(switched(harness.run({ ...stop, action: 'RESUME', buildCommit: 'build-2' }))).toEqual([expect.objectContaining({ accountId: OTHER, switch: 'normal', configDigest: digest, buildCommit: 'build-2' })])
    // A command without a build (an older leader's command record) writes the config digest only.
    const { buildCommit: _none, ...withoutBuild } = stop
    const [unbuilt] = switched(harness.run({ ...withoutBuild, action: 'HALT', accountId: ACCOUNT }))
    expect(unbuilt).toMatchObject({ configDigest: digest })
    expect(unbuilt !== undefined && 'buildCommit' in unbuilt).toBe(false)
  })
})
