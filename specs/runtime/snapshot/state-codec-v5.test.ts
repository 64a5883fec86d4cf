/**
 * A kernel section written by the previous build (format version 5, before orders held syntheticCumQty and the
 * overfill recheck) is read and upgraded to the state replaying its log gives — so an upgrade does not depend on the
 * log still holding everything since genesis. The fixture was written by main at f77d3c4: an order with two synthetic
 * fills (venue cumulative 0.03, then 0.05) and a real fill above them (0.02, cumulative 0.07).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo, type Frame } from '../../../wal/index.ts'
import { applyInPlace, initialState, stateDigest, type KernelState } from '../../../src/kernel/index.ts'
import { encodeSnapshot, KERNEL_SECTION, loadNewestValid, SnapshotStore, type LogView } from '../../../src/runtime/snapshot/index.ts'
import {
  KERNEL_STATE_SCHEMA, KERNEL_STATE_SCHEMA_V5, kernelStateBytes, kernelStateFromBytes, readsKernelSchema,
} from '../../../src/runtime/snapshot/state-codec.ts'
import { config, d, Harness, report } from '../../kernel/fixtures.ts'
import { removeDir, tempDataDir } from '../harness.ts'
import { withEarlierSimRateLimit, withoutHeldCap, withoutKeyWindow } from './support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const SECTION_V5 = new Uint8Array(Buffer.from('YwcAAFsxNCxbImNmZy0xIixbWyJzaW0iLCJCVEMtVVNEIiwiQlRDIiwiVVNEIiwiMTAwMDAwMCIsIjEwMDAwIiwiMTAwMDAiLCIxMDAwMDAwMDAwMCIsIjEwMDAwMDAwMDAiLDUwMCxbImxpbWl0IiwibWFya2V0Il0sWyJHVEMiLCJJT0MiLCJGT0siLCJEQVkiXSx0cnVlLHRydWUsNTBdLFsic2ltIiwiRVRILVVTRCIsIkVUSCIsIlVTRCIsIjEwMDAwMDAiLCIxMDAwMDAiLCIxMDAwMDAiLCIxMDAwMDAwMDAwMDAiLCIxMDAwMDAwMDAwIiw1MDAsWyJsaW1pdCIsIm1hcmtldCJdLFsiR1RDIiwiSU9DIiwiRk9LIiwiREFZIl0sdHJ1ZSx0cnVlLDUwXSxbInNpbSIsIkFBUEwiLCJBQVBMIiwiVVNEIiwiMTAwMDAwMCIsIjEwMDAwMDAwMCIsIjEwMDAwMDAwMCIsIjEwMDAwMDAwMDAwMDAiLCIxMDAwMDAwMDAiLDUwMCxbImxpbWl0IiwibWFya2V0Il0sWyJHVEMiLCJJT0MiLCJGT0siLCJEQVkiXSx0cnVlLHRydWUsNTBdXSxbWyJhY2N0LTEiLFsic2ltOkJUQy1VU0QiLCJzaW06RVRILVVTRCIsInNpbTpBQVBMIl0sW10sIjEwMDAwMDAwMDAwMDAwMCIsMTAwLHRydWUsMCwzNDAwMDAwMDAwMDAwXV0sWzEwLDUwMDAsMTAwMCwxMDAwLDEwMDAsMjUwLDY0LDEwMDAwLDM2MDAwMDAsNTAwMCwxMDAwLDEwMDBdXSxbWyJzaW06QlRDLVVTRCIsWyJzaW0iLCJCVEMtVVNEIiwiQlRDIiwiVVNEIiwiMTAwMDAwMCIsIjEwMDAwIiwiMTAwMDAiLCIxMDAwMDAwMDAwMCIsIjEwMDAwMDAwMDAiLDUwMCxbImxpbWl0IiwibWFya2V0Il0sWyJHVEMiLCJJT0MiLCJGT0siLCJEQVkiXSx0cnVlLHRydWUsNTBdXSxbInNpbTpFVEgtVVNEIixbInNpbSIsIkVUSC1VU0QiLCJFVEgiLCJVU0QiLCIxMDAwMDAwIiwiMTAwMDAwIiwiMTAwMDAwIiwiMTAwMDAwMDAwMDAwIiwiMTAwMDAwMDAwMCIsNTAwLFsibGltaXQiLCJtYXJrZXQiXSxbIkdUQyIsIklPQyIsIkZPSyIsIkRBWSJdLHRydWUsdHJ1ZSw1MF1dLFsic2ltOkFBUEwiLFsic2ltIiwiQUFQTCIsIkFBUEwiLCJVU0QiLCIxMDAwMDAwIiwiMTAwMDAwMDAwIiwiMTAwMDAwMDAwIiwiMTAwMDAwMDAwMDAwMCIsIjEwMDAwMDAwMCIsNTAwLFsibGltaXQiLCJtYXJrZXQiXSxbIkdUQyIsIklPQyIsIkZPSyIsIkRBWSJdLHRydWUsdHJ1ZSw1MF1dXSxbWyJhY2N0LTEiLFsiYWNjdC0xIixbInNpbTpCVEMtVVNEIiwic2ltOkVUSC1VU0QiLCJzaW06QUFQTCJdLFtdLCIxMDAwMDAwMDAwMDAwMDAiLDEwMCx0cnVlLDAsMzQwMDAwMDAwMDAwMF1dXSwicGFwZXIiLCJub3JtYWwiLFtbImFjY3QtMSIsW1tbIlVTRCIsIjk2NTAwMDAwMDAwMDAiXSxbIkJUQyIsIjIwNzAwMDAwMCJdLFsiQUFQTCIsIjUwMDAwMDAwMDAiXV0sW1siVVNEIiwiMTUwMTUwMDAwMDAwIl1dXV1dLFtbIjQyN2UyY2Y5NWY5NzY4YTUxNzRkIixbIjQyN2UyY2Y5NWY5NzY4YTUxNzRkIiwiYWNjdC0xIiwiYzEiLCJjMSIsInNpbSIsIkJUQy1VU0QiLCJCVEMiLCJVU0QiLCJidXkiLCJsaW1pdCIsIjEwMDAwMDAwIiwiNTAwMDAwMDAwMDAwMCIsIkdUQyIsZmFsc2UsZmFsc2UsMiwiZWctNDI3ZTJjZjk1Zjk3NjhhNTE3NGQiLCJQYXJ0aWFsIiwiNzAwMDAwMCIsIjM1MDAwMDAwMDAwMCIsWyJVU0QiLCI1MDA1MDAwMDAwMDAiLCIxNTAxNTAwMDAwMDAiXSwidi00MjdlMmNmOTVmOTc2OGE1MTc0ZCIsMSwxNzAwMDAwMDAwMDAwLGZhbHNlLDAsZmFsc2UsMCxbInJlY29uY2lsZTplZy00MjdlMmNmOTVmOTc2OGE1MTc0ZDozMDAwMDAwIiwicmVjb25jaWxlOmVnLTQyN2UyY2Y5NWY5NzY4YTUxNzRkOjUwMDAwMDAiLCJmMyJdLDE3MDAwMDAwMDAwMDAsMTcwMDAwMDAxMDAwNSxudWxsLG51bGwsbnVsbCxbImVnLTQyN2UyY2Y5NWY5NzY4YTUxNzRkIl0sMCxudWxsXV1dLFtdLFtbXSxbXSxbXSxbXV0sW1siYWNjdC0xIiwxXV0sW10sW10sW10sWzE0LDAsMCwyXV0BAAAACQAAABQAAAACAAAACQAUAGGCgIuJ0eesfJUl3iUdGGiK0bRhJBy/AqCA/2cmjpnfV2FjY3QtMSBjMTQyN2UyY2Y5NWY5NzY4YTUxNzRkW10=', 'base64'))

/**
 * The state the fixture's log gives, from the commands it came from: decided by this build, which logs one more event
 * per synthetic fill than that build did (order.synthetic_pending: no pending quantity was kept then) and records the
 * retirement and hold rules it follows (kernel.retire_rule_adopted, kernel.hold_rule_adopted) and its config the cap on ended orders held, so the log is that build's once those are left out, and
 * replayed.
 */
function sameRunHere(): { state: KernelState; orderId: string } {
  // Configured as that build was: without the key window (format 21), so its order ids are of account and key alone;
  // the sim's request budget its default then (50 a second).
  const harness = Harness.funded({ config: withoutKeyWindow(withEarlierSimRateLimit(config())) })
  const orderId = harness.openOrder()
  const order = harness.order(orderId)
  const status = (cumQty: string) => ({ clientOrderId: order.venueClientOrderId, venueOrderId: `v-${orderId}`, account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, cumQty: d(cumQty), status: 'partially_filled' as const })
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder: status('0.03'), trades: [] })
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder: status('0.05'), trades: [] })
  harness.nowMs += 5
  harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f3', lastQty: d('0.02'), lastPrice: d('50000'), cumQty: d('0.07') }))
  const state = initialState()
  harness.log
    .filter((event) => event.type !== 'order.synthetic_pending' && event.type !== 'kernel.retire_rule_adopted' && event.type !== 'kernel.hold_rule_adopted')
    // Nor the cap on ended orders held (payload version 8), which that build's config did not record.
    .map((event) => (event.type === 'kernel.configured' ? { ...event, config: withoutHeldCap(event.config) } : event))
    .forEach((event, index) => applyInPlace(state, event, { lsn: index + 1 }))
  return { state, orderId }
}

describe('a version 5 kernel section', () => {
  test('is named by the schema id the previous build wrote, and is one this build reads', () => {
    expect(KERNEL_STATE_SCHEMA_V5).toBe('kernel-state/v5/fef0fbfd6a1fb66e')
    expect(KERNEL_STATE_SCHEMA).not.toBe(KERNEL_STATE_SCHEMA_V5)
    expect(readsKernelSchema(KERNEL_STATE_SCHEMA_V5)).toBe(true)
    expect(readsKernelSchema('kernel-state/v4/0000000000000000')).toBe(false)
  })

  test('upgrades to the state this build reaches by replaying the same events, digest for digest', () => {
    const { state, orderId } = sameRunHere()
    const upgraded = kernelStateFromBytes(SECTION_V5, { schema: KERNEL_STATE_SCHEMA_V5 })
    expect(upgraded.orders.get(orderId)).toMatchObject({ cumQty: d('0.07'), syntheticCumQty: d('0.05'), overfillCumQty: null, overfillRecheckMs: 0 })
    expect(stateDigest(upgraded)).toBe(stateDigest(state))
    // Written again, it is this build's format.
    expect(stateDigest(kernelStateFromBytes(kernelStateBytes(upgraded)))).toBe(stateDigest(state))
  })

  test('is never read as this build\'s format, nor this build\'s as version 5', () => {
    const { state } = sameRunHere()
    expect(() => kernelStateFromBytes(SECTION_V5)).toThrow(/expected KernelState as an array of 22 fields/)
    expect(() => kernelStateFromBytes(kernelStateBytes(state), { schema: KERNEL_STATE_SCHEMA_V5 })).toThrow(/expected KernelState as an array of 15 fields/)
  })

  test('a snapshot file holding one is loaded, not refused as another schema', () => {
    const { state } = sameRunHere()
    const dir = tempDataDir()
    dirs.push(dir)
    const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 2 })
    const lsn = state.lastLsn
    const chainHead = 'ab'.repeat(32)
    store.write(encodeSnapshot({ lsn, chainHead, createdAtMs: 0, kernelSchema: KERNEL_STATE_SCHEMA_V5 }, new Map([[KERNEL_SECTION, SECTION_V5]])))
    // The log's frame at the snapshot's LSN, as far as loading looks at it: its chain hash.
    const log: LogView = { firstLsn: 1, lastLsn: lsn, read: () => [{ hash: new Uint8Array(32).fill(0xab) } as Frame] }
    const { loaded, rejected } = loadNewestValid(store, log)
    expect(rejected).toEqual([])
    expect(loaded?.lsn).toBe(lsn)
    expect(stateDigest(loaded?.state ?? state)).toBe(stateDigest(state))
    expect(loaded?.state).not.toBe(state)
  })
})
