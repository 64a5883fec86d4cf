import { describe, expect, test } from 'bun:test'
import { toHex } from '../../../wal/index.ts'
import { CommandRecordError, KERNEL_COMMAND, decodeCommandRecord, encodeCommandRecord } from '../../../src/runtime/ha/index.ts'
import type { KernelCommand } from '../../../src/kernel/index.ts'
import { traderA } from '../harness.ts'

const encoder = new TextEncoder()
const touch = { bidPrice: 6_099_900_000_000n, bidQty: 150_000_000n, askPrice: 6_100_100_000_000n, askQty: 0n }

function placeWith(market: unknown): KernelCommand {
  return {
    kind: 'place',
    nowMs: 1_767_225_600_123,
    principal: traderA,
    idempotencyKey: 'k',
    body: { account: 'acct-a' },
    market,
    live: { credentialPresent: false, environmentLive: false, haLeader: true },
    configDigest: 'sim-config',
    buildCommit: 'test',
  } as KernelCommand
}

function refusalOf(payload: unknown): string {
  try {
    decodeCommandRecord({ type: KERNEL_COMMAND.type, version: KERNEL_COMMAND.version, payload: encoder.encode(JSON.stringify(payload)) })
  } catch (error) {
    expect(error).toBeInstanceOf(CommandRecordError)
    return (error as CommandRecordError).code
  }
  return 'accepted'
}

const big = (value: bigint): { $bigint: string } => ({ $bigint: value.toString() })

describe('kernel.command records carry the book touch of a market fact', () => {
  test('a place, a send and a flatten with a touch come back exactly, and the same bytes re-encode', () => {
    const market = { referencePrice: 6_100_000_000_000n, observedAtMs: 1_767_225_600_000, previousPrice: null, touch }
    const commands: KernelCommand[] = [
      placeWith(market),
      {
        kind: 'send', nowMs: 7, orderId: 'o1', action: 'place', market,
        facts: { haLeader: true, liveExplicit: false, durabilityMode: 'fsync', schemaCompatible: true, auditVerified: true },
      },
      { kind: 'flatten', nowMs: 7, principal: traderA, accountId: 'acct-a', flattenId: 'f1', markets: { 'sim:BTC-USD': market }, buildCommit: 'test' },
    ]
    for (const command of commands) {
      const record = encodeCommandRecord(command, 1)
      const decoded = decodeCommandRecord(record).command
      expect(decoded).toEqual(command)
      expect(toHex(encodeCommandRecord(decoded, 1).payload)).toBe(toHex(record.payload))
    }
  })

  test('a market fact recorded before the touch existed still decodes, with no touch', () => {
    const older = { referencePrice: big(6_100_000_000_000n), observedAtMs: 5, previousPrice: null }
    const command = { ...placeWith(null), market: older, principal: traderA }
    const decoded = decodeCommandRecord({ type: KERNEL_COMMAND.type, version: KERNEL_COMMAND.version, payload: encoder.encode(JSON.stringify({ command, eventCount: 1 })) }).command
    expect(decoded.kind === 'place' && decoded.market).toEqual({ referencePrice: 6_100_000_000_000n, observedAtMs: 5, previousPrice: null })
    expect(decoded.kind === 'place' && decoded.market !== null && 'touch' in decoded.market).toBe(false)
  })

  test('a touch with a member missing, a member too many or a size that is not an integer is refused', () => {
    const bigTouch = { bidPrice: big(touch.bidPrice), bidQty: big(touch.bidQty), askPrice: big(touch.askPrice), askQty: big(touch.askQty) }
    const withTouch = (value: unknown): unknown => ({
      command: { ...placeWith(null), principal: traderA, market: { referencePrice: big(1n), observedAtMs: 5, previousPrice: null, touch: value } },
      eventCount: 1,
    })
    expect(refusalOf(withTouch(bigTouch))).toBe('accepted')
    const { askQty: _askQty, ...missing } = bigTouch
    expect(refusalOf(withTouch(missing))).toBe('COMMAND_RECORD_SHAPE')
    expect(refusalOf(withTouch({ ...bigTouch, depth: big(1n) }))).toBe('COMMAND_RECORD_SHAPE')
    expect(refusalOf(withTouch({ ...bigTouch, bidQty: '1.5' }))).toBe('COMMAND_RECORD_SHAPE')
    expect(refusalOf(withTouch(null))).toBe('COMMAND_RECORD_SHAPE')
  })
})
