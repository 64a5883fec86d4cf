/**
 * What the specs of members a record type gained at a payload version share (trace-member, ttl-member,
 * protection-member): a decision record, an `order.accepted` without any of those members, and the payload of an
 * event as an older build wrote it — the type's layout at that version, written by the interpreted reference writer.
 */

import { parseDecimal } from '../../../src/domain/decimal.ts'
import type { KernelConfig } from '../../../src/domain/kernel-config.ts'
import { recordLayoutOf } from '../../../src/domain/events/binary-layout.ts'
import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { EVENT_CODES, type DomainEvent, type EncodedEvent, type EventOf } from '../../../src/domain/events/index.ts'
import { writeRecordInterpreted } from './interpreted-writer.ts'

export const DECISION = { principalId: 'alice', roles: ['trader'], configDigest: 'c', buildCommit: 'b', nowMs: 5, guards: [{ guard: 'policy' as const, outcome: 'pass' as const, inputs: { live: false } }] }

/** A limit buy accepted, with none of the members added since version 2 (traceparent, ttlMs, protectionPrice). */
export const ACCEPTED: EventOf<'order.accepted'> = {
  type: 'order.accepted',
  atMs: 1_700_000_000_000,
  orderId: 'o-1',
  accountId: 'demo-1',
  idempotencyKey: 'k-1',
  bodyDigest: 'd',
  clientOrderId: null,
  venue: 'sim',
  symbol: 'BTC-USD',
  baseAsset: 'BTC',
  quoteAsset: 'USD',
  side: 'buy',
  orderType: 'limit',
  qty: parseDecimal('0.01'),
  price: parseDecimal('59000'),
  tif: 'GTC',
  postOnly: false,
  reduceOnly: false,
  lane: 2,
  venueClientOrderId: 'eg-o-1',
  reservationAsset: 'USD',
  reservationAmount: parseDecimal('590'),
  flattenId: null,
  decision: DECISION,
}

/** The payload as a build before a member wrote it: the type's layout at `version` (2 plain, later compact). */
export function olderPayload(event: DomainEvent, version: number): EncodedEvent {
  const { type, ...body } = event
  const layout = recordLayoutOf(schemaAtVersion(type, version), version === 2 ? 'plain' : 'compact')
  return { type: EVENT_CODES[type], version, payload: writeRecordInterpreted(layout, body, type) }
}

/** A kernel config as builds before kernel.configured payload version 10 recorded it: without the idempotency key window and its cap. */
export function withoutKeyWindow(config: KernelConfig): KernelConfig {
  const { idempotencyKeyHeldMs: _, idempotencyKeysHeldMax: __, ...params } = config.params
  return { ...config, params }
}
