/**
 * The binary layout of each record type is fixed for its schema version. A binary payload is read by position, not by
 * member name (binary-layout.ts), so a schema change that JSON payloads absorbed — a member added with a default "for
 * old records", a member renamed — would make every payload already written under the same version unreadable, or
 * worse, read one member's bytes as another's. These pins fail first: a type whose layout changed needs a new version
 * in registry.ts (and a pin for it here, next to the old one, which stays), and a way to read the old layout.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { recordLayoutOf, type BinaryFormat, type Layout, type LayoutField } from '../../../src/domain/events/binary-layout.ts'
import { decodeEvent, encodeEvent, orderIdOfRecord, type DomainEvent } from '../../../src/domain/events/index.ts'
import { schemaAtVersion } from '../../../src/domain/events/binary-records.ts'
import { binaryFormatOf, EVENT_CODES, EVENT_VERSIONS, JSON_PAYLOAD_VERSION_MAX } from '../../../src/domain/events/registry.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { EVENT_SCHEMAS } from '../../../src/domain/events/schemas.ts'
import type { EventType } from '../../../src/domain/events/types.ts'
import { PINNED_LAYOUTS_V12 } from './layout-pins-v12.ts'
import { PINNED_LAYOUTS_V13 } from './layout-pins-v13.ts'

/** A record's layout in one line: members in write order with their kinds (a nested object with a varint length: `v{…}`). */
function recordText(fields: readonly LayoutField[]): string {
  return `{${fields.map((field) => `${field.key}:${layoutText(field.layout)}`).join(' ')}}`
}

function layoutText(layout: Layout): string {
  switch (layout.kind) {
    case 'object':
      return `${layout.lengthPrefix === 'varint' ? 'v' : ''}${recordText(layout.fields)}`
    case 'nullable':
    case 'optional':
      return `${layout.kind}(${layoutText(layout.inner)})`
    case 'array':
      return `[${layoutText(layout.item)}]`
    default:
      return layout.kind
  }
}

const DECISION = '{buildCommit:string configDigest:string guards:[{guard:string inputs:json outcome:string reason:optional(string)}] nowMs:number principalId:string roles:[string]}'
const GATE = '{action:string checks:[{applies:boolean check:string detail:string pass:boolean}] mode:string pass:boolean sendAllowed:boolean}'

/** `type@version` → its layout. Pins of older versions stay: their payloads are still in logs. */
const PINNED_LAYOUTS: Record<string, string> = {
  'kernel.configured@2':
    '{atMs:number config:{digest:string instruments:[{baseAsset:string lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[string] postOnly:boolean priceBandBps:number quoteAsset:string rateLimitPerSecond:number reduceOnly:boolean symbol:string tickSize:units timeInForce:[string] venue:string}] params:{accountQueuedMax:json callsPerInstrumentMax:json lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersKeptMax:json} policies:[{accountId:string instruments:[string] liveAllowed:boolean marketOrderInstruments:[string] maxOpenOrders:number maxOrderNotional:units validFromMs:number validUntilMs:number}]}}',
  'kernel.retire_rule_adopted@2': '{atMs:number rule:number}',
  'mode.changed@2': '{atMs:number mode:string note:string principalId:string}',
  'switch.changed@2': '{action:string atMs:number note:string principalId:string switch:string}',
  'account.funded@2': '{accountId:string amount:units asset:string atMs:number reference:string}',
  'account.flatten_requested@2': '{accountId:string atMs:number flattenId:string principalId:string}',
  // account.switch_changed (112) came after the plain format: its version 2 layout is pinned all the same.
  'account.switch_changed@2': '{accountId:string action:string atMs:number note:string principalId:string switch:string}',
  'order.accepted@2': `{orderId:string accountId:string atMs:number baseAsset:string bodyDigest:string clientOrderId:nullable(string) decision:${DECISION} flattenId:nullable(string) idempotencyKey:string lane:number orderType:string postOnly:boolean price:nullable(units) qty:units quoteAsset:string reduceOnly:boolean reservationAmount:units reservationAsset:string side:string symbol:string tif:string venue:string venueClientOrderId:string}`,
  'order.rejected@2': `{orderId:string accountId:nullable(string) atMs:number bodyDigest:string decision:${DECISION} guard:string idempotencyKey:nullable(string) reason:string}`,
  'order.cancel_requested@2': '{orderId:string atMs:number principalId:string reason:string}',
  'order.canceled@2': '{orderId:string atMs:number reason:string source:string}',
  'order.send_requested@2': `{orderId:string atMs:number attempt:number gate:${GATE} venueClientOrderId:string}`,
  'order.cancel_send_requested@2': `{orderId:string atMs:number attempt:number cancelClientOrderId:string gate:${GATE} origClientOrderId:optional(string)}`,
  'order.send_blocked@2': `{orderId:string action:string atMs:number gate:${GATE} reason:string retryAtMs:number}`,
  'order.amend_requested@2': `{orderId:string amendClientOrderId:string amendId:number atMs:number decision:${DECISION} price:nullable(units) principalId:string qty:units reservationTotal:units}`,
  'order.amend_rejected@2': `{orderId:string atMs:number decision:${DECISION} guard:string price:nullable(units) principalId:string qty:nullable(units) reason:string}`,
  'order.amend_send_requested@2': `{orderId:string amendClientOrderId:string amendId:number atMs:number attempt:number gate:${GATE} origClientOrderId:string price:nullable(units) qty:units}`,
  'order.amended@2': '{orderId:string amendClientOrderId:string amendId:number atMs:number price:nullable(units) qty:units reservationTotal:units source:string}',
  'order.amend_failed@2': '{orderId:string amendId:number atMs:number detail:string reason:string}',
  'order.call_completed@2': '{orderId:string action:string atMs:number detail:string outcome:string}',
  'order.send_acked@2': '{orderId:string atMs:number venueOrderId:string}',
  'order.send_retry@2': '{orderId:string action:string atMs:number retryAtMs:number venueReason:string}',
  'order.venue_rejected@2': '{orderId:string atMs:number venueReason:string}',
  'order.cancel_acked@2': '{orderId:string atMs:number}',
  'order.cancel_rejected@2': '{orderId:string atMs:number venueReason:string}',
  'order.unknown@2': '{orderId:string atMs:number detail:string reason:string}',
  'order.fill@2': '{orderId:string atMs:number cumQty:units execId:string fee:units feeAsset:string lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.expired@2': '{orderId:string atMs:number}',
  'order.suspect_marked@2': '{orderId:string atMs:number}',
  'order.suspect_cleared@2': '{orderId:string atMs:number}',
  'order.reconciled@2': '{orderId:string atMs:number notAtVenue:boolean reason:string to:string venueOrderId:nullable(string) venueStatus:string}',
  'order.reconcile_deferred@2': '{orderId:string atMs:number retryAtMs:number}',
  'order.resend_requested@2': '{orderId:string atMs:number principalId:string reservationAmount:units}',
  'order.transition_refused@2': '{orderId:string atMs:number detail:string from:string transition:string}',
  'inbox.report_accepted@2':
    '{orderId:nullable(string) atMs:number report:{account:string clientOrderId:string cumQty:units execId:string fee:optional(units) feeAsset:optional(string) kind:string lastPrice:optional(units) lastQty:optional(units) liquidity:optional(string) origClientOrderId:optional(string) reason:optional(string) side:string symbol:string venue:string venueOrderId:string venueTimeMs:number}}',
  'inbox.duplicate_dropped@2': '{orderId:nullable(string) atMs:number execId:string venue:string}',
  'alert.raised@2': '{orderId:nullable(string) atMs:number detail:string reason:string}',
  // Added with payload version 3 current: nothing was ever written as @2, but a reader of that format has the layout.
  'order.fill_covered@2': '{orderId:string atMs:number coveredQty:units execId:string fee:units feeAsset:string lastPrice:units lastQty:units syntheticCumQty:units venueCumQty:units venueTimeMs:number}',
  'order.overfill_recheck@2': '{orderId:string atMs:number retryAtMs:number venueCumQty:units}',
  'order.synthetic_pending@2': '{orderId:string atMs:number execId:string price:units qty:units}',
  'order.fill_trued_up@2': '{orderId:string atMs:number cash:units execId:string fee:units feeAsset:string lastPrice:units notional:units qty:units syntheticCash:units syntheticNotional:units venueTimeMs:number}',
  'order.resend_refused@2': '{orderId:string atMs:number detail:string principalId:string reason:string}',
  'order.limit_loosest@2': '{orderId:string atMs:number limit:units}',
  'order.synthetic_declined@2': '{orderId:string atMs:number price:units venueCumQty:units}',
  'venue.health_changed@2': '{atMs:number detail:string level:string previous:string score:number venue:string}',
  'venue.override_proposed@2': '{atMs:number note:string overrideId:string principalId:string scope:string untilMs:number venue:string}',
  'venue.override_approved@2': '{atMs:number overrideId:string principalId:string venue:string}',
  'venue.override_revoked@2': '{atMs:number note:string overrideId:string principalId:string venue:string}',
  'venue.override_lapsed@2': '{approved:boolean atMs:number overrideId:string untilMs:number venue:string}',
  'kernel.configured@3': '{atMs:number config:v{digest:word instruments:[v{baseAsset:word lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[word] postOnly:boolean priceBandBps:number quoteAsset:word rateLimitPerSecond:number reduceOnly:boolean symbol:word tickSize:units timeInForce:[word] venue:word}] params:v{accountQueuedMax:json callsPerInstrumentMax:json lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersKeptMax:json} policies:[v{accountId:word instruments:[word] liveAllowed:boolean marketOrderInstruments:[word] maxOpenOrders:number maxOrderNotional:units validFromMs:number validUntilMs:number}]}}',
  'kernel.retire_rule_adopted@3': '{atMs:number rule:number}',
  'kernel.configured@4': '{atMs:number config:v{digest:word instruments:[v{baseAsset:word lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[word] postOnly:boolean priceBandBps:number quoteAsset:word rateLimitPerSecond:number reduceOnly:boolean symbol:word tickSize:units timeInForce:[word] venue:word}] params:v{accountQueuedMax:json callsPerInstrumentMax:json lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersKeptMax:json} policies:[v{accountId:word instruments:[word] liveAllowed:boolean marketOrderInstruments:[word] maxOpenOrders:number maxOrderNotional:units newOrdersBy:optional([word]) validFromMs:number validUntilMs:number}]}}',
  'mode.changed@3': '{atMs:number mode:word note:word principalId:word}',
  'switch.changed@3': '{action:word atMs:number note:word principalId:word switch:word}',
  'account.funded@3': '{accountId:word amount:units asset:word atMs:number reference:word}',
  'account.flatten_requested@3': '{accountId:word atMs:number flattenId:word principalId:word}',
  'account.switch_changed@3': '{accountId:word action:word atMs:number note:word principalId:word switch:word}',
  'order.accepted@3': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word venue:word venueClientOrderId:word}',
  'order.rejected@3': '{orderId:word accountId:nullable(word) atMs:number bodyDigest:word decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} guard:word idempotencyKey:nullable(word) reason:word}',
  'order.cancel_requested@3': '{orderId:word atMs:number principalId:word reason:word}',
  'order.canceled@3': '{orderId:word atMs:number reason:word source:word}',
  'order.send_requested@3': '{orderId:word atMs:number attempt:number gate:v{action:word checks:[v{applies:boolean check:word detail:word pass:boolean}] mode:word pass:boolean sendAllowed:boolean} venueClientOrderId:word}',
  'order.cancel_send_requested@3': '{orderId:word atMs:number attempt:number cancelClientOrderId:word gate:v{action:word checks:[v{applies:boolean check:word detail:word pass:boolean}] mode:word pass:boolean sendAllowed:boolean} origClientOrderId:optional(word)}',
  'order.send_blocked@3': '{orderId:word action:word atMs:number gate:v{action:word checks:[v{applies:boolean check:word detail:word pass:boolean}] mode:word pass:boolean sendAllowed:boolean} reason:word retryAtMs:number}',
  'order.amend_requested@3': '{orderId:word amendClientOrderId:word amendId:number atMs:number decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} price:nullable(units) principalId:word qty:units reservationTotal:units}',
  'order.amend_rejected@3': '{orderId:word atMs:number decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} guard:word price:nullable(units) principalId:word qty:nullable(units) reason:word}',
  'order.amend_send_requested@3': '{orderId:word amendClientOrderId:word amendId:number atMs:number attempt:number gate:v{action:word checks:[v{applies:boolean check:word detail:word pass:boolean}] mode:word pass:boolean sendAllowed:boolean} origClientOrderId:word price:nullable(units) qty:units}',
  'order.amended@3': '{orderId:word amendClientOrderId:word amendId:number atMs:number price:nullable(units) qty:units reservationTotal:units source:word}',
  'order.amend_failed@3': '{orderId:word amendId:number atMs:number detail:word reason:word}',
  'order.call_completed@3': '{orderId:word action:word atMs:number detail:word outcome:word}',
  'order.send_acked@3': '{orderId:word atMs:number venueOrderId:word}',
  'order.send_retry@3': '{orderId:word action:word atMs:number retryAtMs:number venueReason:word}',
  'order.venue_rejected@3': '{orderId:word atMs:number venueReason:word}',
  'order.cancel_acked@3': '{orderId:word atMs:number}',
  'order.cancel_rejected@3': '{orderId:word atMs:number venueReason:word}',
  'order.unknown@3': '{orderId:word atMs:number detail:word reason:word}',
  'order.fill@3': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.expired@3': '{orderId:word atMs:number}',
  'order.suspect_marked@3': '{orderId:word atMs:number}',
  'order.suspect_cleared@3': '{orderId:word atMs:number}',
  'order.reconciled@3': '{orderId:word atMs:number notAtVenue:boolean reason:word to:word venueOrderId:nullable(word) venueStatus:word}',
  'order.reconcile_deferred@3': '{orderId:word atMs:number retryAtMs:number}',
  'order.resend_requested@3': '{orderId:word atMs:number principalId:word reservationAmount:units}',
  'order.transition_refused@3': '{orderId:word atMs:number detail:word from:word transition:word}',
  'inbox.report_accepted@3': '{orderId:nullable(word) atMs:number report:v{account:word clientOrderId:word cumQty:units execId:word fee:optional(units) feeAsset:optional(word) kind:word lastPrice:optional(units) lastQty:optional(units) liquidity:optional(word) origClientOrderId:optional(word) reason:optional(word) side:word symbol:word venue:word venueOrderId:word venueTimeMs:number}}',
  'inbox.duplicate_dropped@3': '{orderId:nullable(word) atMs:number execId:word venue:word}',
  'alert.raised@3': '{orderId:nullable(word) atMs:number detail:word reason:word}',
  'order.fill_covered@3': '{orderId:word atMs:number coveredQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units syntheticCumQty:units venueCumQty:units venueTimeMs:number}',
  'order.overfill_recheck@3': '{orderId:word atMs:number retryAtMs:number venueCumQty:units}',
  'order.synthetic_pending@3': '{orderId:word atMs:number execId:word price:units qty:units}',
  'order.fill_trued_up@3': '{orderId:word atMs:number cash:units execId:word fee:units feeAsset:word lastPrice:units notional:units qty:units syntheticCash:units syntheticNotional:units venueTimeMs:number}',
  'order.resend_refused@3': '{orderId:word atMs:number detail:word principalId:word reason:word}',
  'order.limit_loosest@3': '{orderId:word atMs:number limit:units}',
  'order.synthetic_declined@3': '{orderId:word atMs:number price:units venueCumQty:units}',
  'venue.health_changed@3': '{atMs:number detail:word level:word previous:word score:number venue:word}',
  'venue.override_proposed@3': '{atMs:number note:word overrideId:word principalId:word scope:word untilMs:number venue:word}',
  'venue.override_approved@3': '{atMs:number overrideId:word principalId:word venue:word}',
  'venue.override_revoked@3': '{atMs:number note:word overrideId:word principalId:word venue:word}',
  // Version 4: the W3C trace context of the request that wrote the record (traceparent), added as an optional member.
  'order.accepted@4': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word traceparent:optional(word) venue:word venueClientOrderId:word}',
  'order.cancel_requested@4': '{orderId:word atMs:number principalId:word reason:word traceparent:optional(word)}',
  'order.canceled@4': '{orderId:word atMs:number reason:word source:word traceparent:optional(word)}',
  'order.amend_requested@4': '{orderId:word amendClientOrderId:word amendId:number atMs:number decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} price:nullable(units) principalId:word qty:units reservationTotal:units traceparent:optional(word)}',
  'order.amend_rejected@4': '{orderId:word atMs:number decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} guard:word price:nullable(units) principalId:word qty:nullable(units) reason:word traceparent:optional(word)}',
  // Version 5 of kernel.configured: the book limits (instrument touchQtyMin, params spreadBpsMax and touchShareBpsMax)
  // added to version 4's (a policy's newOrdersBy, above).
  'kernel.configured@5': '{atMs:number config:v{digest:word instruments:[v{baseAsset:word lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[word] postOnly:boolean priceBandBps:number quoteAsset:word rateLimitPerSecond:number reduceOnly:boolean symbol:word tickSize:units timeInForce:[word] touchQtyMin:optional(units) venue:word}] params:v{accountQueuedMax:json callsPerInstrumentMax:json lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number spreadBpsMax:optional(number) takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersKeptMax:json touchShareBpsMax:optional(number)} policies:[v{accountId:word instruments:[word] liveAllowed:boolean marketOrderInstruments:[word] maxOpenOrders:number maxOrderNotional:units newOrdersBy:optional([word]) validFromMs:number validUntilMs:number}]}}',
  // Version 8 of kernel.configured: the hard cap on ended orders held (params terminalOrdersHeldMax). It went from 5 to 8
  // (a type is at the newest version of its members): none was ever written as 6 or 7, and a reader of either has 5's layout.
  'kernel.configured@6': '{atMs:number config:v{digest:word instruments:[v{baseAsset:word lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[word] postOnly:boolean priceBandBps:number quoteAsset:word rateLimitPerSecond:number reduceOnly:boolean symbol:word tickSize:units timeInForce:[word] touchQtyMin:optional(units) venue:word}] params:v{accountQueuedMax:json callsPerInstrumentMax:json lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number spreadBpsMax:optional(number) takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersKeptMax:json touchShareBpsMax:optional(number)} policies:[v{accountId:word instruments:[word] liveAllowed:boolean marketOrderInstruments:[word] maxOpenOrders:number maxOrderNotional:units newOrdersBy:optional([word]) validFromMs:number validUntilMs:number}]}}',
  'kernel.configured@7': '{atMs:number config:v{digest:word instruments:[v{baseAsset:word lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[word] postOnly:boolean priceBandBps:number quoteAsset:word rateLimitPerSecond:number reduceOnly:boolean symbol:word tickSize:units timeInForce:[word] touchQtyMin:optional(units) venue:word}] params:v{accountQueuedMax:json callsPerInstrumentMax:json lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number spreadBpsMax:optional(number) takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersKeptMax:json touchShareBpsMax:optional(number)} policies:[v{accountId:word instruments:[word] liveAllowed:boolean marketOrderInstruments:[word] maxOpenOrders:number maxOrderNotional:units newOrdersBy:optional([word]) validFromMs:number validUntilMs:number}]}}',
  'kernel.configured@8': '{atMs:number config:v{digest:word instruments:[v{baseAsset:word lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[word] postOnly:boolean priceBandBps:number quoteAsset:word rateLimitPerSecond:number reduceOnly:boolean symbol:word tickSize:units timeInForce:[word] touchQtyMin:optional(units) venue:word}] params:v{accountQueuedMax:json callsPerInstrumentMax:json lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number spreadBpsMax:optional(number) takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersHeldMax:optional(number) terminalOrdersKeptMax:json touchShareBpsMax:optional(number)} policies:[v{accountId:word instruments:[word] liveAllowed:boolean marketOrderInstruments:[word] maxOpenOrders:number maxOrderNotional:units newOrdersBy:optional([word]) validFromMs:number validUntilMs:number}]}}',
  // Version 9 of kernel.configured: a policy's selfTrade (self-trade prevention per account), after version 8's members.
  'kernel.configured@9': '{atMs:number config:v{digest:word instruments:[v{baseAsset:word lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[word] postOnly:boolean priceBandBps:number quoteAsset:word rateLimitPerSecond:number reduceOnly:boolean symbol:word tickSize:units timeInForce:[word] touchQtyMin:optional(units) venue:word}] params:v{accountQueuedMax:json callsPerInstrumentMax:json lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number spreadBpsMax:optional(number) takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersHeldMax:optional(number) terminalOrdersKeptMax:json touchShareBpsMax:optional(number)} policies:[v{accountId:word instruments:[word] liveAllowed:boolean marketOrderInstruments:[word] maxOpenOrders:number maxOrderNotional:units newOrdersBy:optional([word]) selfTrade:optional(word) validFromMs:number validUntilMs:number}]}}',
  'kernel.configured@10': '{atMs:number config:v{digest:word instruments:[v{baseAsset:word lotSize:units maxQty:units minNotional:units minQty:units orderTypes:[word] postOnly:boolean priceBandBps:number quoteAsset:word rateLimitPerSecond:number reduceOnly:boolean symbol:word tickSize:units timeInForce:[word] touchQtyMin:optional(units) venue:word}] params:v{accountQueuedMax:json callsPerInstrumentMax:json idempotencyKeyHeldMs:optional(number) idempotencyKeysHeldMax:optional(number) lane1DepthMax:number lane2DepthMax:number reconcileGraceMs:number reconcileRecheckMs:number referenceJumpBps:number referenceStaleMs:number sendRetryMs:number spreadBpsMax:optional(number) takerFeeBps:number terminalOrderRetireAfterMs:json terminalOrdersHeldMax:optional(number) terminalOrdersKeptMax:json touchShareBpsMax:optional(number)} policies:[v{accountId:word instruments:[word] liveAllowed:boolean marketOrderInstruments:[word] maxOpenOrders:number maxOrderNotional:units newOrdersBy:optional([word]) selfTrade:optional(word) validFromMs:number validUntilMs:number}]}}',
  // Version 6 of order.rejected: the rejected request's trace context. It went from 3 to 6 (a type is at the newest
  // version of its members): no order.rejected was ever written as 4 or 5, and a reader of either has 3's layout.
  'order.rejected@4': '{orderId:word accountId:nullable(word) atMs:number bodyDigest:word decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} guard:word idempotencyKey:nullable(word) reason:word}',
  'order.rejected@5': '{orderId:word accountId:nullable(word) atMs:number bodyDigest:word decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} guard:word idempotencyKey:nullable(word) reason:word}',
  'order.rejected@6': '{orderId:word accountId:nullable(word) atMs:number bodyDigest:word decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} guard:word idempotencyKey:nullable(word) reason:word traceparent:optional(word)}',
  // Version 6 of account.flatten_requested: the flatten request's trace context (4 and 5 never written: 3's layout).
  'account.flatten_requested@4': '{accountId:word atMs:number flattenId:word principalId:word}',
  'account.flatten_requested@5': '{accountId:word atMs:number flattenId:word principalId:word}',
  'account.flatten_requested@6': '{accountId:word atMs:number flattenId:word principalId:word traceparent:optional(word)}',
  // Version 11 of account.flatten_requested: the flatten's first answer, which its repeat answers (notClosed, records:
  // src/kernel/flatten-held.ts). It went from 6 to 11: none was written as 7 to 10, whose readers have 6's layout.
  'account.flatten_requested@7': '{accountId:word atMs:number flattenId:word principalId:word traceparent:optional(word)}',
  'account.flatten_requested@8': '{accountId:word atMs:number flattenId:word principalId:word traceparent:optional(word)}',
  'account.flatten_requested@9': '{accountId:word atMs:number flattenId:word principalId:word traceparent:optional(word)}',
  'account.flatten_requested@10': '{accountId:word atMs:number flattenId:word principalId:word traceparent:optional(word)}',
  'account.flatten_requested@11': '{accountId:word atMs:number flattenId:word notClosed:optional([v{asset:word qty:units}]) principalId:word records:optional(number) traceparent:optional(word)}',
  // Version 12 of account.flatten_requested: why a holding was left open (notClosed[].reason, src/kernel/flatten-close-sizes.ts).
  // Version 7 of order.accepted: the order's time-to-live (ttlMs). It went from 4 to 7 (a type is at the newest version
  // of its members): no order.accepted was ever written as 5 or 6, and a reader of either has 4's layout.
  'order.accepted@5': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word traceparent:optional(word) venue:word venueClientOrderId:word}',
  'order.accepted@6': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word traceparent:optional(word) venue:word venueClientOrderId:word}',
  'order.accepted@7': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word traceparent:optional(word) ttlMs:optional(number) venue:word venueClientOrderId:word}',
  // Version 10 of order.accepted: a market order's protection price (protectionPrice). It went from 7 to 10: no
  // order.accepted was ever written as 8 or 9 (9 is another change's), and a reader of either has 7's layout.
  'order.accepted@8': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word traceparent:optional(word) ttlMs:optional(number) venue:word venueClientOrderId:word}',
  'order.accepted@9': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word traceparent:optional(word) ttlMs:optional(number) venue:word venueClientOrderId:word}',
  'order.accepted@10': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) protectionPrice:optional(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word traceparent:optional(word) ttlMs:optional(number) venue:word venueClientOrderId:word}',
  // Version 11: a plain market order's worst price (worstPrice) on order.accepted (from 10) and on
  // order.resend_requested (from 3: never written as 4 to 10, whose readers have 3's layout).
  'order.accepted@11': '{orderId:word accountId:word atMs:number baseAsset:word bodyDigest:word clientOrderId:nullable(word) decision:v{buildCommit:word configDigest:word guards:[v{guard:word inputs:scalars outcome:word reason:optional(word)}] nowMs:number principalId:word roles:[word]} flattenId:nullable(word) idempotencyKey:word lane:number orderType:word postOnly:boolean price:nullable(units) protectionPrice:optional(units) qty:units quoteAsset:word reduceOnly:boolean reservationAmount:units reservationAsset:word side:word symbol:word tif:word traceparent:optional(word) ttlMs:optional(number) venue:word venueClientOrderId:word worstPrice:optional(units)}',
  'order.resend_requested@4': '{orderId:word atMs:number principalId:word reservationAmount:units}',
  'order.resend_requested@5': '{orderId:word atMs:number principalId:word reservationAmount:units}',
  'order.resend_requested@6': '{orderId:word atMs:number principalId:word reservationAmount:units}',
  'order.resend_requested@7': '{orderId:word atMs:number principalId:word reservationAmount:units}',
  'order.resend_requested@8': '{orderId:word atMs:number principalId:word reservationAmount:units}',
  'order.resend_requested@9': '{orderId:word atMs:number principalId:word reservationAmount:units}',
  'order.resend_requested@10': '{orderId:word atMs:number principalId:word reservationAmount:units}',
  'order.resend_requested@11': '{orderId:word atMs:number principalId:word reservationAmount:units worstPrice:optional(units)}',
  // Version 11 also: who ended an order never sent (order.canceled principalId; from 4: never written as 5 to 10,
  // whose readers have 4's layout).
  'order.canceled@5': '{orderId:word atMs:number reason:word source:word traceparent:optional(word)}',
  'order.canceled@6': '{orderId:word atMs:number reason:word source:word traceparent:optional(word)}',
  'order.canceled@7': '{orderId:word atMs:number reason:word source:word traceparent:optional(word)}',
  'order.canceled@8': '{orderId:word atMs:number reason:word source:word traceparent:optional(word)}',
  'order.canceled@9': '{orderId:word atMs:number reason:word source:word traceparent:optional(word)}',
  'order.canceled@10': '{orderId:word atMs:number reason:word source:word traceparent:optional(word)}',
  'order.canceled@11': '{orderId:word atMs:number principalId:optional(word) reason:word source:word traceparent:optional(word)}',
  // Version 11 also: a real fill's place in the venue's cumulative quantity (order.fill venueCumQty; from 3: never
  // written as 4 to 10, whose readers have 3's layout).
  'order.fill@4': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.fill@5': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.fill@6': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.fill@7': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.fill@8': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.fill@9': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.fill@10': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueTimeMs:number}',
  'order.fill@11': '{orderId:word atMs:number cumQty:units execId:word fee:units feeAsset:word lastPrice:units lastQty:units synthetic:boolean venueCumQty:optional(units) venueTimeMs:number}',
  'venue.override_lapsed@3': '{approved:boolean atMs:number overrideId:word untilMs:number venue:word}',
  'auth.token_revoked@2': '{atMs:number jti:string note:string principalId:string untilMs:number}',
  'auth.subject_revoked@2': '{atMs:number issuedBeforeMs:number note:string principalId:string sub:string untilMs:number}',
  'auth.token_revoked@3': '{atMs:number jti:word note:word principalId:word untilMs:number}',
  'auth.subject_revoked@3': '{atMs:number issuedBeforeMs:number note:word principalId:word sub:word untilMs:number}',
  'order_list.triggered@3': '{atMs:number cause:word legOrderId:word listId:word}',
  'order_list.triggered@2': '{atMs:number cause:string legOrderId:string listId:string}',
  'order_list.accepted@3': '{accountId:word atMs:number bodyDigest:word legs:[word] listId:word listKey:word listType:word principalId:word traceparent:optional(word)}',
  // Order lists (263, 264): new types, written from version 3 on; their version 2 layouts are pinned as every type's are.
  // The hold rule (104): a new type, written from version 3 on; its version 2 layout is pinned as every type's is.
  'kernel.hold_rule_adopted@2': '{atMs:number rule:number}',
  'kernel.hold_rule_adopted@3': '{atMs:number rule:number}',
  // Version 4: hold rule 2 (registry.ts VERSIONS_RAISED), version 3's layout.
  'kernel.hold_rule_adopted@4': '{atMs:number rule:number}',
  'order_list.accepted@2': '{accountId:string atMs:number bodyDigest:string legs:[string] listId:string listKey:string listType:string principalId:string traceparent:optional(string)}',
  // Version 12: the decision's config digest and build beside its principal (layout-pins-v12.ts).
  ...PINNED_LAYOUTS_V12,
  // Version 13: the same on an account's own switch (layout-pins-v13.ts).
  ...PINNED_LAYOUTS_V13,
}

/** Events covering every layout kind, and their version 2 payloads as written: the plain format's bytes stay pinned. */
const GOLDEN_V2: { event: DomainEvent; hex: string }[] = [
  {
    event: {
      type: 'order.rejected',
      atMs: 1_700_000_000_000,
      orderId: 'o-1',
      accountId: null,
      idempotencyKey: 'k',
      bodyDigest: 'd',
      reason: 'POLICY_DENIED',
      guard: 'policy',
      decision: {
        principalId: 'p',
        roles: ['trader'],
        configDigest: 'c',
        buildCommit: 'b',
        nowMs: 5,
        guards: [{ guard: 'policy', outcome: 'fail', reason: 'POLICY_DENIED', inputs: { symbol: 'BTC-USD', notional: 12.5, live: false, limit: null } }],
      },
    },
    hex: '036f2d310000008056febc784201647500000001620163015a00000006706f6c6963793e7b226c696d6974223a6e756c6c2c226c697665223a66616c73652c226e6f74696f6e616c223a31322e352c2273796d626f6c223a224254432d555344227d046661696c010d504f4c4943595f44454e49454400000000000014400170010674726164657206706f6c69637901016b0d504f4c4943595f44454e494544',
  },
  {
    event: {
      type: 'inbox.report_accepted',
      atMs: 7,
      orderId: 'o-2',
      report: {
        venue: 'sim',
        execId: 'e-1',
        kind: 'fill',
        clientOrderId: 'c-1',
        venueOrderId: 'v-1',
        account: 'a',
        symbol: 'BTC-USD',
        side: 'buy',
        cumQty: parseDecimal('0.5'),
        lastQty: parseDecimal('0.5'),
        lastPrice: parseDecimal('12345678901234567890.12345678'),
        fee: parseDecimal('-0.01'),
        venueTimeMs: 6,
      },
    },
    hex: '01036f2d320000000000001c405f000000016103632d310080e1eb1703652d310101c0843d000466696c6c01021d31323334353637383930313233343536373839302e3132333435363738010080e1eb1700000003627579074254432d5553440373696d03762d310000000000001840',
  },
]

/**
 * The same events, and one whose guard inputs hold every kind of scalar, with their version 3 payloads as written:
 * the compact format's bytes are pinned too (words, records of scalars, varint object lengths).
 */
const GOLDEN: { event: DomainEvent; hex: string }[] = [
  {
    event: (GOLDEN_V2[0] as { event: DomainEvent }).event,
    hex: '066f2d310000008056febc7842026438026202630125030495010041014f0600000000000029400c73796d626f6c030e4254432d5553441101c50200000000000014400270018d010301026bc502',
  },
  {
    event: (GOLDEN_V2[1] as { event: DomainEvent }).event,
    hex: '01066f2d320000000000001c4058026106632d310080e1eb1706652d310101c0843d00a50101021d31323334353637383930313233343536373839302e3132333435363738010080e1eb1700000091010e4254432d555344a10106762d310000000000001840',
  },
  {
    event: {
      type: 'order.rejected',
      atMs: 1_700_000_000_000,
      orderId: 'o-3',
      accountId: 'demo-1',
      idempotencyKey: null,
      bodyDigest: 'd',
      reason: 'DATA_STALE',
      guard: 'data_health',
      decision: {
        principalId: 'p',
        roles: ['trader', 'quant'],
        configDigest: 'c',
        buildCommit: 'b',
        nowMs: 5,
        guards: [{ guard: 'data_health', outcome: 'fail', reason: 'DATA_STALE', inputs: { ageMs: -5, side: 'buy', policyPresent: true, openOrders: 300, price: null, referencePrice: '60000.07', notional: 0.25 } }],
      },
    },
    hex: '066f2d33010c64656d6f2d3100008056febc784202644302620263012a07075b05054f06000000000000d03f5304ac024d02630057031036303030302e3037650391011101dd0200000000000014400270028d010a7175616e740700dd02',
  },
]

const REJECTED_V3 = GOLDEN[0] as { event: DomainEvent; hex: string }
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** order.rejected's version 6 payloads: version 3's bytes with the traceparent member last (absent: one 00 byte). */
const GOLDEN_V6: { event: DomainEvent; hex: string }[] = [
  { event: REJECTED_V3.event, hex: `${REJECTED_V3.hex}00` },
  { event: (GOLDEN[2] as { event: DomainEvent }).event, hex: `${(GOLDEN[2] as { hex: string }).hex}00` },
  {
    event: { ...REJECTED_V3.event, traceparent: TRACEPARENT } as DomainEvent,
    hex: `${REJECTED_V3.hex}016e${Buffer.from(TRACEPARENT).toString('hex')}`,
  },
]

describe('binary layouts are pinned per schema version', () => {
  test('every record type has the layout pinned for each binary version up to its current one (a schema change needs a new version)', () => {
    for (const name of Object.keys(EVENT_SCHEMAS) as EventType[]) {
      for (let version = JSON_PAYLOAD_VERSION_MAX + 1; version <= EVENT_VERSIONS[name]; version++) {
        const key = `${name}@${version}`
        const actual = recordText(recordLayoutOf(schemaAtVersion(name, version), binaryFormatOf(version) as BinaryFormat))
        if (PINNED_LAYOUTS[key] !== actual) {
          throw new Error(
            `the binary layout of ${key} is not the one pinned for it: payloads already written as ${key} would be misread. ` +
              `Give ${name} a new schema version (registry.ts), keep reading the old layout, and pin the new one here.\n` +
              `pinned: ${PINNED_LAYOUTS[key] ?? '(none)'}\nnow:    ${actual}`,
          )
        }
      }
    }
  })

  test('sample events of every kind are written byte for byte as pinned, and read back', () => {
    for (const { event, hex } of GOLDEN) {
      // Version 3's bytes read back as the event, by both decoders, whatever version its type is at now.
      const written = { type: EVENT_CODES[event.type], version: 3, payload: new Uint8Array(Buffer.from(hex, 'hex')) }
      expect(decodeEvent(written)).toEqual(event)
      expect(decodeTrustedEvent(written)).toEqual(event)
      if (EVENT_VERSIONS[event.type] !== 3) continue
      const encoded = encodeEvent(event)
      expect(encoded.version).toBe(3)
      expect(`${event.type} ${Buffer.from(encoded.payload).toString('hex')}`).toBe(`${event.type} ${hex}`)
      expect(decodeEvent(encoded)).toEqual(event)
      expect(decodeTrustedEvent(encoded)).toEqual(event)
    }
  })

  test('order.rejected is written as version 6 byte for byte as pinned (version 3 and one optional member), with and without a trace', () => {
    for (const { event, hex } of GOLDEN_V6) {
      const encoded = encodeEvent(event)
      expect(encoded.version).toBe(6)
      expect(`${event.type} ${Buffer.from(encoded.payload).toString('hex')}`).toBe(`${event.type} ${hex}`)
      expect(decodeEvent(encoded)).toEqual(event)
      expect(decodeTrustedEvent(encoded)).toEqual(event)
      expect(orderIdOfRecord(encoded)).toBe((event as { orderId: string }).orderId)
    }
  })

  test('the same events as version 2 wrote them (the plain format) still read, by both decoders, with their order ids', () => {
    for (const { event, hex } of GOLDEN_V2) {
      const encoded = { type: EVENT_CODES[event.type], version: 2, payload: new Uint8Array(Buffer.from(hex, 'hex')) }
      expect(decodeEvent(encoded)).toEqual(event)
      expect(decodeTrustedEvent(encoded)).toEqual(event)
      expect(orderIdOfRecord(encoded)).toBe((event as { orderId?: string }).orderId ?? null)
    }
  })
})
