// A back-office record of a version this build does not read (a newer build's: in a log rolled back to this build, or
// replicated to a standby not upgraded yet) was parsed with this build's schema. At start, valibot's bare error came out
// of the back office's open ("Invalid key: Expected never but received ..."), no stable code, no record named. On the
// live path it was thrown from the log subscriber's walk of its batch: the batch's later LSNs never reached the
// projector's delivery queue, so each of their events failed its order assertion and was never booked — the ledger
// lacked an order while its applied LSN said it was whole. Now the record is refused with a SchemaError
// (`unsupported_version` / `invalid_payload`) naming it and its LSN, the batch's events are all booked, and reconcile
// refuses to judge breaks against a break book lacking a record.

import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { BREAK_OPENED, decodeBackOfficeRecord, RECONCILED } from '../../src/backoffice/breaks.ts'
import { SchemaError } from '../../src/domain/events/index.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

const encoder = new TextEncoder()
/** A break_opened as a newer build might write it: one member more, at the version after this build's. */
const NEWER_BREAK = {
  type: BREAK_OPENED.type,
  version: BREAK_OPENED.version + 1,
  payload: encoder.encode(JSON.stringify({ key: 'venue_trades:sim:x-1', check: 'venue_trades', what: 'w', expected: 'e', actual: 'a', firstSeenMs: 1, asOfLsn: 1, runId: 'r', accountId: 'acct-a', severity: 'high' })),
}

function schemaErrorOf(read: () => unknown): SchemaError {
  try {
    read()
  } catch (error) {
    if (error instanceof SchemaError) return error
    throw error
  }
  throw new Error('not refused')
}

describe('back-office records this build does not read', () => {
  test('a newer version, version 0, a payload that is not JSON or not the schema: SchemaError with its kind, naming the record and LSN', () => {
    const newer = schemaErrorOf(() => decodeBackOfficeRecord({ ...NEWER_BREAK, lsn: 42 }))
    expect(newer.kind).toBe('unsupported_version')
    expect(newer.message).toBe(`record type backoffice.break_opened at LSN 42 has schema version ${BREAK_OPENED.version + 1}; this binary understands versions 1..${BREAK_OPENED.version}`)
    // Even when its payload would pass this build's schema: a newer version may mean something else by it.
    const sameShape = encoder.encode(JSON.stringify({ runId: 'r', atMs: 1, asOfLsn: 1, checks: [], skipped: [], breaksSeen: 0, opened: 0, cleared: 0, suspects: [] }))
    expect(schemaErrorOf(() => decodeBackOfficeRecord({ type: RECONCILED.type, version: RECONCILED.version + 1, payload: sameShape })).kind).toBe('unsupported_version')
    expect(schemaErrorOf(() => decodeBackOfficeRecord({ ...NEWER_BREAK, version: 0 })).kind).toBe('unsupported_version')
    const notJson = schemaErrorOf(() => decodeBackOfficeRecord({ type: BREAK_OPENED.type, version: 2, payload: encoder.encode('{"key":'), lsn: 7 }))
    expect(notJson.kind).toBe('invalid_payload')
    expect(notJson.message).toBe('record type backoffice.break_opened v2 at LSN 7: not JSON')
    const extra = schemaErrorOf(() => decodeBackOfficeRecord({ ...NEWER_BREAK, version: 2 }))
    expect(extra.kind).toBe('invalid_payload')
    expect(extra.message).toContain('record type backoffice.break_opened v2: severity:')
    // A type of the range this build does not write is passed over, as before.
    expect(decodeBackOfficeRecord({ type: 0xb0ff, version: 9, payload: encoder.encode('?') })).toBeNull()
  })

  test('live: the events committed with it are all booked, the error is a SchemaError, and reconcile refuses; a restart is refused with it', async () => {
    const world = await startWorld({ seed: 48 })
    worlds.push(world)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    // Appended together, the record and the order's events commit in one batch, the record first.
    const appended = world.gateway.engine.appendRecords([NEWER_BREAK])
    const placed = world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: 'newer-1' }, null)
    const [[recordLsn], first] = await drive(world, Promise.all([appended, placed]))
    if (first.reply.kind !== 'accepted') throw new Error(`not accepted: ${first.reply.kind}`)
    const second = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: 'newer-2' }, null)
    if (second.reply.kind !== 'accepted') throw new Error(`not accepted: ${second.reply.kind}`)
    await run(world, 500)
    const ledger = office.projector.ledger
    expect([ledger.orders.has(first.reply.orderId), ledger.orders.has(second.reply.orderId)]).toEqual([true, true])
    expect(office.stats().appliedLsn).toBe(world.gateway.engine.wal.lastLsn)
    const refusal = `record type backoffice.break_opened at LSN ${recordLsn} has schema version ${BREAK_OPENED.version + 1}; this binary understands versions 1..${BREAK_OPENED.version}`
    expect(world.errors).toEqual([`log subscriber: SchemaError: ${refusal}`])
    const run1 = await drive(world, office.reconcile().then(() => null, (error: unknown) => error))
    expect(run1).toBeInstanceOf(SchemaError)
    expect((run1 as SchemaError).kind).toBe('unsupported_version')
    expect(office.projector.breaks.lastRun).toBeNull()

    await world.gateway.stop()
    const again = await startWorld({ seed: 48, dir: world.dir, clock: world.clock, venue: world.venue })
    worlds.push(again)
    const refused = schemaErrorOf(() => backOfficeOf(again.gateway, { reconcileIntervalMs: null }))
    expect(refused.kind).toBe('unsupported_version')
    expect(refused.message).toBe(refusal)
  })
})
