// A running snapshot writes the back-office section in slices, yielding to the event loop between them
// (section-capture.ts): written at once, the held orders of a 100k-order ledger held the loop ~0.6 s in one stretch,
// and the snapshot file's hashing another ~0.3 s. Sliced, the bytes are the same as written at once, and no stretch
// forms more held orders (or hashes and copies more bytes) than its slice.
import { describe, expect, test } from 'bun:test'
import { applyEvent, BreakBook, encodeSection, initialLedger, type LedgerState } from '../../src/backoffice/index.ts'
import { sectionEncodeSteps } from '../../src/backoffice/section.ts'
import { encodeTagged, encodeTaggedSteps } from '../../src/backoffice/tagged-json.ts'
import { encodeSnapshot, snapshotEncodeSteps } from '../../src/runtime/snapshot/file.ts'
import { accepted, canceled, fill, funded } from './events.ts'

/** A ledger holding `count` orders, every third filled, every fifth canceled. */
function ledgerOf(count: number): LedgerState {
  const ledger = initialLedger()
  let lsn = 0
  applyEvent(ledger, funded('USD', '100000000'), ++lsn)
  applyEvent(ledger, funded('BTC', '1000'), ++lsn)
  for (let index = 0; index < count; index++) {
    const orderId = `o${index}`
    applyEvent(ledger, accepted({ orderId, side: index % 2 === 0 ? 'buy' : 'sell', qty: '0.001', price: '60000' }), ++lsn)
    if (index % 3 === 0) applyEvent(ledger, fill(orderId, { execId: `${orderId}-f`, qty: '0.001', price: '60000', cumQty: '0.001' }), ++lsn)
    else if (index % 5 === 0) applyEvent(ledger, canceled(orderId), ++lsn)
  }
  return ledger
}

function content(ledger: LedgerState, image: Uint8Array) {
  return { lsn: ledger.lastLsn, chainHead: '0'.repeat(64), queryModel: { lastLsn: ledger.lastLsn, digest: 'd', lastHash: '', tables: {} }, ledger, breaks: new BreakBook(), image }
}

/** Runs `steps` to its end; the most `counted()` grew between two yields, and the yields. */
function drive<T>(steps: Generator<void, T>, counted: () => number): { value: T; stretchMax: number; yields: number } {
  let stretchMax = 0
  let yields = 0
  let since = counted()
  for (let step = steps.next(); ; step = steps.next()) {
    stretchMax = Math.max(stretchMax, counted() - since)
    since = counted()
    if (step.done === true) return { value: step.value, stretchMax, yields }
    yields++
  }
}

describe('back-office section written in slices', () => {
  test('the section bytes are those written at once, for any slice size', () => {
    const ledger = ledgerOf(47)
    const image = Uint8Array.from({ length: 1000 }, (_, index) => index % 251)
    const whole = encodeSection(content(ledger, image))
    for (const entriesPerSlice of [1, 2, 7, 46, 47, 48, 1000]) {
      const sliced = drive(sectionEncodeSteps(content(ledger, image), entriesPerSlice), () => 0)
      expect(sliced.value).toEqual(whole)
      if (entriesPerSlice < ledger.orders.size) expect(sliced.yields).toBeGreaterThanOrEqual(Math.floor(ledger.orders.size / entriesPerSlice))
    }
  })

  test('no stretch between two yields forms more held orders than the slice', () => {
    const orders = new Map(Array.from({ length: 23 }, (_, index) => [`o${index}`, { qty: BigInt(index), ids: [`c${index}`] }] as const))
    const ended = new Map(Array.from({ length: 30 }, (_, index) => [`o${index}`, index]))
    const small = new Map([['k', new Map([['deep', 1n]])]])
    let formed = 0
    const form = (order: { qty: bigint; ids: string[] }): unknown => (formed++, { qty: order.qty, first: order.ids[0] })
    const value = { orders, ended, small, note: 'a "$map" and a \u0000 in text', nested: { again: orders } }
    const whole = encodeTagged(value, { map: orders, form })
    formed = 0
    const sliced = drive(encodeTaggedSteps(value, { map: orders, form }, 4), () => formed)
    expect(sliced.value.join('')).toBe(whole)
    expect(formed).toBe(2 * orders.size)
    expect(sliced.stretchMax).toBeLessThanOrEqual(4)
    // The ended orders are sliced too (30 entries, 4 a slice), the small Map written whole.
    expect(sliced.yields).toBeGreaterThanOrEqual(Math.floor(23 / 4) * 2 + Math.floor(30 / 4))
  })

  test('the snapshot file is the one written at once; its hashing and copying yield every slice of bytes', () => {
    const sections = new Map([['kernel', Uint8Array.from({ length: 10_001 }, (_, index) => index % 253)], ['backoffice', encodeSection(content(ledgerOf(5), new Uint8Array(3000)))]])
    const meta = { lsn: 9, chainHead: 'a'.repeat(64), createdAtMs: 1, kernelSchema: 'spec' }
    const whole = encodeSnapshot(meta, sections)
    const sliced = drive(snapshotEncodeSteps(meta, sections, 1024), () => 0)
    expect(sliced.value.bytes).toEqual(whole.bytes)
    expect(sliced.value.digest).toBe(whole.digest)
    const total = [...sections.values()].reduce((sum, body) => sum + body.byteLength, 0)
    // Each byte of the sections hashed, copied, then hashed in the file: about three slices per KiB.
    expect(sliced.yields).toBeGreaterThanOrEqual(Math.floor((3 * total) / 1024) - 6)
  })
})
