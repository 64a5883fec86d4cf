/**
 * A flatten's first answer is held (src/kernel/flatten-held.ts): a repeat of the same flatten id on the same account,
 * within the key window, decides nothing and answers it (the lsn of the last record the first decision wrote, the
 * holdings it could not close). Past the window, or past FLATTENS_HELD_PER_ACCOUNT_MAX newer flattens of the account,
 * the id names a new flatten. A record written before payload version 11 holds no answer: its repeat is decided again.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import { FLATTENS_HELD_PER_ACCOUNT_MAX, heldFlatten, stateDigest } from '../../src/kernel/index.ts'
import { applyInPlace } from '../../src/kernel/apply.ts'
import { ACCOUNT, d, Harness, market, ops, T0 } from './fixtures.ts'

const DAY_MS = 86_400_000

function flatten(h: Harness, flattenId: string, nowMs = h.nowMs) {
  return h.run({ kind: 'flatten', nowMs, principal: ops, accountId: ACCOUNT, flattenId, markets: { 'sim:BTC-USD': market('50000', { observedAtMs: nowMs }), 'sim:AAPL': market('190', { observedAtMs: nowMs }) } })
}

/** Funded, and holding 7 XRP, an asset no instrument trades: a holding a flatten cannot close. */
function fundedWithXrp(): Harness {
  const h = Harness.funded()
  h.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'XRP', amount: d('7'), reference: 'config' })
  return h
}

describe("a flatten's repeat", () => {
  test('decides nothing and answers the first answer: the lsn of its decision\'s last record, the holdings not closed', () => {
    const h = fundedWithXrp()
    h.openOrder({ qty: '0.1', price: '49000' })
    const first = flatten(h, 'f-1')
    expect(first.reply).toEqual({ kind: 'done' })
    const requested = first.events[0] as EventOf<'account.flatten_requested'>
    // A cancel of the open order and a close of the BTC: the answer's lsn is the last of the records.
    expect(first.events.length).toBeGreaterThan(2)
    expect(requested.records).toBe(first.events.length)
    expect(requested.notClosed).toEqual([{ asset: 'XRP', qty: d('7') }])
    const lastLsn = h.state.lastLsn
    const before = stateDigest(h.state)
    h.nowMs += 60_000
    const repeat = flatten(h, 'f-1')
    expect(repeat.events).toEqual([])
    expect(repeat.reply).toEqual({ kind: 'flatten_repeat', lsn: lastLsn, notClosed: [{ asset: 'XRP', qty: d('7') }] })
    expect(stateDigest(h.state)).toBe(before)
    // Another id, or the same id on another account, is another flatten.
    expect(flatten(h, 'f-2').events[0]?.type).toBe('account.flatten_requested')
  })

  test('past the key window, the id names a new flatten: recorded again, then held anew', () => {
    const h = fundedWithXrp()
    flatten(h, 'f-1')
    const late = T0 + DAY_MS + 3_600_000
    expect(heldFlatten(h.state, ACCOUNT, 'f-1', T0 + DAY_MS - 1)).not.toBeNull()
    expect(heldFlatten(h.state, ACCOUNT, 'f-1', late)).toBeNull()
    const again = flatten(h, 'f-1', late)
    expect(again.events[0]).toMatchObject({ type: 'account.flatten_requested', flattenId: 'f-1', atMs: late })
    expect(flatten(h, 'f-1', late + 1).reply).toEqual({ kind: 'flatten_repeat', lsn: h.state.lastLsn, notClosed: [{ asset: 'XRP', qty: d('7') }] })
  })

  test(`at most ${FLATTENS_HELD_PER_ACCOUNT_MAX} answers are held per account: the oldest goes first`, () => {
    const h = Harness.funded()
    for (let index = 0; index <= FLATTENS_HELD_PER_ACCOUNT_MAX; index++) flatten(h, `f-${index}`)
    expect(h.state.flattens.get(ACCOUNT)?.size).toBe(FLATTENS_HELD_PER_ACCOUNT_MAX)
    expect(heldFlatten(h.state, ACCOUNT, 'f-0', h.nowMs)).toBeNull()
    expect(heldFlatten(h.state, ACCOUNT, 'f-1', h.nowMs)).not.toBeNull()
    expect(flatten(h, 'f-0').events[0]?.type).toBe('account.flatten_requested')
  })

  test('a record written before payload version 11 holds no answer: its repeat is decided again, as that build decided it', () => {
    const h = Harness.funded()
    const older: DomainEvent = { type: 'account.flatten_requested', atMs: T0, accountId: ACCOUNT, flattenId: 'f-old', principalId: 'ops-1' }
    applyInPlace(h.state, older, { lsn: h.state.lastLsn + 1 })
    expect(h.state.flattens.size).toBe(0)
    expect(flatten(h, 'f-old').events[0]?.type).toBe('account.flatten_requested')
  })
})
