/**
 * `order.limit_loosest` is logged only when an applied amend moves the order's loosest limit (kernel/amend/evidence.ts);
 * the build before logged it after every applied limit amend, the ones that left it as it was included. A standby in
 * shadow mode and `egress redecide` decide a log's commands again with this build and compare its records with the
 * log's, so a log of the build before (a leader not yet upgraded, an older data directory) would have had a mismatch
 * at every amend to a tighter or the same limit. The comparison leaves out a leader record that sets the loosest limit
 * to what the order holds already (runtime/ha/shadow.ts); one that moves it is compared as before.
 *
 * Each log here is written through the WAL with command records, by this build's kernel or by a stand-in for the build
 * before (this kernel's decision plus the record the old rule added), and re-decided by `redecideLog`.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../../src/domain/events/index.ts'
import { applyInPlace, decide, type Decision, type KernelCommand } from '../../../src/kernel/index.ts'
import { encodeCommandRecord, redecideLog, type DecideFunction } from '../../../src/runtime/ha/index.ts'
import { Wal, type RecordInput } from '../../../wal/index.ts'
import { ACCOUNT, config, d, Harness, report, T0 } from '../../kernel/fixtures.ts'
import { removeDir } from '../harness.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

/** A kernel harness whose decisions come from `decideWith` and are kept as the appends a leader would make. */
class RecordingHarness extends Harness {
  readonly appends: RecordInput[][] = []

  constructor(private readonly decideWith: DecideFunction) {
    super()
  }

  override run(command: KernelCommand): Decision {
    const decision = this.decideWith(this.state, command)
    const records = decision.events.map((event) => encodeEvent(event))
    this.appends.push([encodeCommandRecord(command, records.length), ...records])
    for (const record of records) {
      const event = decodeEvent(record)
      applyInPlace(this.state, event, { lsn: this.state.lastLsn + 1 })
      this.log.push(event)
    }
    return decision
  }
}

/**
 * The build before, as far as this record goes: this kernel's decision, with an `order.limit_loosest` after each
 * applied limit amend that has none — the old rule logged the loosest limit at every one, and where this build logs
 * none the amend left it at what the order held. `alter` changes the record the stand-in writes (the old build wrote
 * it unaltered), to show which leader records are still mismatches.
 */
function previousBuild(alter: (record: LoosestEvent, amended: EventOfAmended) => LoosestEvent = (record) => record): DecideFunction {
  return (state, command) => {
    const decision = decide(state, command)
    const events: DomainEvent[] = []
    decision.events.forEach((event, index) => {
      events.push(event)
      if (event.type !== 'order.amended' || event.price === null || decision.events[index + 1]?.type === 'order.limit_loosest') return
      const held = state.orders.get(event.orderId)?.limitLoosest ?? null
      if (held !== null) events.push(alter({ type: 'order.limit_loosest', atMs: event.atMs, orderId: event.orderId, limit: held }, event))
    })
    return { ...decision, events }
  }
}

type EventOfAmended = Extract<DomainEvent, { type: 'order.amended' }>
type LoosestEvent = Extract<DomainEvent, { type: 'order.limit_loosest' }>

/** A buy at 50000 amended four times: looser, tighter, quantity only, looser again; then a late fill under its first id. */
function amendedBuy(decideWith: DecideFunction): { harness: RecordingHarness; orderId: string } {
  const harness = new RecordingHarness(decideWith)
  harness.run({ kind: 'configure', nowMs: T0, config: config() })
  harness.run({ kind: 'fund', nowMs: T0, principalId: 'config', accountId: ACCOUNT, asset: 'USD', amount: d('100000'), reference: 'config' })
  const orderId = harness.openOrder({ side: 'buy', price: '50000', qty: '0.5' })
  const first = harness.order(orderId)
  for (const change of [{ price: '50500' }, { price: '50200' }, { qty: '0.6' }, { price: '50800' }]) {
    harness.amend(orderId, change)
    harness.send(orderId, 'amend')
    harness.amendResult(orderId, { kind: 'ok', value: { accepted: true } })
  }
  // Made under the order's first id while 50800 was not yet its limit, reported late: within the loosest, no alert.
  harness.report(report(first, { execId: 'late-1', kind: 'fill', lastQty: d('0.01'), lastPrice: d('50700'), cumQty: d('0.01') }))
  return { harness, orderId }
}

async function logOf(harness: RecordingHarness): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'egress-shadow-loosest-'))
  dirs.push(dir)
  const wal = Wal.open(dir, { durability: 'none', preallocateBytes: 0 })
  for (const records of harness.appends) await wal.append(records)
  await wal.close()
  return dir
}

function loosestRecords(harness: Harness): bigint[] {
  return harness.log.flatMap((event) => (event.type === 'order.limit_loosest' ? [event.limit] : []))
}

describe('order.limit_loosest only when the loosest limit moves', () => {
  test('this build logs it for the amends that loosen the limit, and the order holds the same limit as under the old rule', () => {
    const now = amendedBuy(decide)
    const before = amendedBuy(previousBuild())
    expect(loosestRecords(now.harness)).toEqual([d('50500'), d('50800')])
    // The old rule: one per applied limit amend.
    expect(loosestRecords(before.harness)).toEqual([d('50500'), d('50500'), d('50500'), d('50800')])
    const { limitLoosest, cumQty, updatedAtMs, status } = now.harness.order(now.orderId)
    expect({ limitLoosest, cumQty, updatedAtMs, status }).toEqual({ limitLoosest: d('50800'), cumQty: d('0.01'), updatedAtMs: before.harness.order(before.orderId).updatedAtMs, status: 'Partial' })
    expect(before.harness.order(before.orderId)).toEqual(now.harness.order(now.orderId))
    expect(now.harness.log.some((event) => event.type === 'alert.raised')).toBe(false)
  })

  test("redecide matches a log of this build and a log of the build before, every decision", async () => {
    const now = redecideLog(await logOf(amendedBuy(decide).harness))
    expect(now.lastMismatches).toEqual([])
    expect(now.decisions).toBeGreaterThan(15)
    expect(now.matches).toBe(now.decisions)
    // Before the comparison left such records out: a mismatch at the tighter amend and at the quantity-only one.
    const before = redecideLog(await logOf(amendedBuy(previousBuild()).harness))
    expect(before.lastMismatches).toEqual([])
    expect(before.matches).toBe(now.decisions)
  })

  test('a leader record that moves the loosest limit is still a mismatch, present or missing', async () => {
    // The stand-in writes the amend's own price where the old rule wrote the limit held: it would move the limit.
    // At the tighter amend that is 50200: a mismatch. The log's state then holds 50200 (the record was applied), so the
    // quantity-only amend's 50200 leaves it as it was and is left out.
    const moved = redecideLog(await logOf(amendedBuy(previousBuild((record, amended) => ({ ...record, limit: amended.price ?? 0n }))).harness))
    expect(moved.mismatches).toBe(1)
    expect(moved.lastMismatches[0]?.difference).toContain('0xf4 v3 on the leader')
    // The same limit at another time than the amend's would move the order's update time: both such records differ.
    const later = redecideLog(await logOf(amendedBuy(previousBuild((record) => ({ ...record, atMs: record.atMs + 1 }))).harness))
    expect(later.mismatches).toBe(2)
    // A leader that logged no record where the limit moved (the first amend's, to 50500).
    const missing = redecideLog(await logOf(amendedBuy((state, command) => {
      const decision = decide(state, command)
      const loosened = decision.events.some((event) => event.type === 'order.limit_loosest' && event.limit === d('50500'))
      return loosened ? { ...decision, events: decision.events.filter((event) => event.type !== 'order.limit_loosest') } : decision
    }).harness))
    expect(missing.mismatches).toBe(1)
    expect(missing.lastMismatches[0]?.difference).toContain('type 0xf4 v3 on the standby')
  })
})
