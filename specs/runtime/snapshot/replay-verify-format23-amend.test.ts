/**
 * replay-verify on a data directory upgraded with an amend waiting (src/runtime/snapshot/amend-request-times.ts). A
 * kernel-state section of format 23 or older holds no amend request time: it is read as the order's acceptance, and a
 * gateway restored from one keeps that value in its format 24 snapshots while the amend waits. Replaying the log gives
 * the request's own time. Such snapshots are intact and match, every other member compared; before, replay-verify
 * reported them DIFFERENCES FOUND (exit 65) on the first replay-verify after an upgrade. An edit is still a mismatch.
 */

import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import type { KernelState } from '../../../src/kernel/index.ts'
import {
  decodeSnapshot, encodeSnapshot, KERNEL_SECTION, KERNEL_STATE_SCHEMA, kernelStateBytes, kernelStateFromBytes, replayVerify,
} from '../../../src/runtime/snapshot/index.ts'
import { KERNEL_STATE_SCHEMA_V23, kernelSectionOf } from '../../../src/runtime/snapshot/state-codec.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../harness.ts'
import { AMEND_MEMBER, asReadFromFormat23, encodeAsFormat23 } from './support.ts'

const worlds = worldsStoppedAfterEach()
/** Where an amend's attempts are in its row (format 23: amendId, clientOrderId, qty, price, reservationTotal, stage, attempts, sentAtMs). */
const AMEND_ATTEMPTS = 6

/** An order resting at the venue, amended 10 s after its acceptance while the executor is stopped: the amend waits. */
async function stoppedWithAmendWaiting(): Promise<{ world: World; orderId: string; file: string }> {
  const world = await startWorld({ seed: 63 })
  worlds.push(world)
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif: 'GTC', client_order_id: 'amended' }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  const orderId = placed.reply.orderId
  await run(world, 1_000)
  world.gateway.executor.stop()
  await world.clock.advanceAsync(10_000)
  expect((await world.gateway.amend(traderA, orderId, { qty: null, price: parseDecimal('58500') })).reply.kind).toBe('amend_accepted')
  const order = world.gateway.engine.state.orders.get(orderId)
  expect(order?.amend).toMatchObject({ stage: 'requested' })
  expect(order?.amend?.requestedAtMs).toBeGreaterThan(order?.acceptedAtMs ?? Infinity)
  await world.gateway.snapshot()
  await crashWorld(world)
  return { world, orderId, file: join(world.dir, 'snapshots', readdirSync(join(world.dir, 'snapshots')).filter((name) => name.endsWith('.snap')).sort().at(-1) as string) }
}

/** The snapshot file rewritten with `kernel` as its kernel section under `schema`, the other sections kept. */
function rewrite(file: string, schema: string, kernel: Uint8Array): void {
  const content = decodeSnapshot(new Uint8Array(readFileSync(file)))
  const sections = new Map(content.sections)
  sections.set(KERNEL_SECTION, kernel)
  const { format: _format, version: _version, sections: _infos, ...meta } = content.header
  writeFileSync(file, encodeSnapshot({ ...meta, kernelSchema: schema }, sections).bytes)
}

function stateOf(file: string): KernelState {
  return kernelStateFromBytes(decodeSnapshot(new Uint8Array(readFileSync(file))).sections.get(KERNEL_SECTION) as Uint8Array)
}

function format23(state: KernelState, edit: (fields: unknown[]) => void = () => {}): Uint8Array {
  const { json, idempotency } = encodeAsFormat23(state)
  edit(json as unknown[])
  return kernelSectionOf(JSON.stringify(json), idempotency)
}

describe('replay-verify of a snapshot whose amend holds no request time of its own', () => {
  test('a format 23 snapshot with an amend waiting matches its rebuild, the amend compared as asked at the acceptance', async () => {
    const { world, file } = await stoppedWithAmendWaiting()
    rewrite(file, KERNEL_STATE_SCHEMA_V23, format23(stateOf(file)))
    const report = replayVerify(world.dir, { from: 'genesis' })
    expect(report.problems).toEqual([])
    expect(report.snapshots.map((check) => [check.status, check.differences])).toEqual([
      ['match', ["orders: 1 hold an amend asked at the order's acceptance (read from a kernel-state format 23 or older, which holds no request time): compared with the rebuilt amends so"]],
    ])
    expect(report.ok).toBe(true)
  })

  test('a format 24 snapshot of a gateway restored from one, the amend still waiting, matches too', async () => {
    const { world, file } = await stoppedWithAmendWaiting()
    rewrite(file, KERNEL_STATE_SCHEMA, kernelStateBytes(asReadFromFormat23(stateOf(file))))
    const report = replayVerify(world.dir, { from: 'genesis' })
    expect(report.snapshots.map((check) => check.status)).toEqual(['match'])
    expect(report.ok).toBe(true)
  })

  test('a format 23 snapshot whose amend differs in another member is still a mismatch naming the order', async () => {
    const { world, orderId, file } = await stoppedWithAmendWaiting()
    rewrite(file, KERNEL_STATE_SCHEMA_V23, format23(stateOf(file), (fields) => {
      const row = (fields[7] as [string, unknown[]][]).find(([id]) => id === orderId)?.[1] as unknown[]
      const amend = row[AMEND_MEMBER] as unknown[]
      expect(amend[AMEND_ATTEMPTS]).toBe(0)
      amend[AMEND_ATTEMPTS] = 1
    }))
    const report = replayVerify(world.dir, { from: 'genesis' })
    expect(report.snapshots.map((check) => [check.status, check.differences])).toEqual([['mismatch', [`orders: 1 differ: ${orderId}`]]])
    expect(report.ok).toBe(false)
  })
})
