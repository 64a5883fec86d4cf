/**
 * The words of the compact binary format (payload version 3, binary-layout.ts): strings that recur in nearly every
 * record — guard and gate-check names, the keys of a guard's inputs, the gate's details, sides, modes, states, reason
 * codes — written as their index here (one or two bytes) instead of their text. Nothing depends on a string being
 * here: any other string is written as it is, so a word missing from this list only costs bytes.
 *
 * The list is part of the format: payloads hold its indexes, and a string that is a word is only ever written as its
 * index (one value, one encoding). So it is fixed for version 3 — a reader with more or fewer words would misread
 * or refuse its payloads. A new word needs a new payload version whose list extends this one
 * (specs/domain/events/vocabulary.test.ts pins it). The first 64 take one byte, so the words of an order that passes
 * every guard and check come first.
 */

export const VOCABULARY: readonly string[] = Object.freeze([
  // 0–8: the intake guards and their outcomes
  'syntax', 'policy', 'mode', 'data_health', 'reservation', 'capability', 'lane', 'pass', 'fail',
  // 9–32: the send gate: its checks with the details of a passing check, its actions, the modes
  'ha_leader', 'mode_live_explicit', 'policy_allow', 'guards_pass', 'reservation_held', 'durability_live',
  'schema_compatible', 'health_not_critical', 'audit_verified', 'this node is the HA leader',
  'mode=paper, liveExplicit=false', 'policy allows within its validity', 'every intake guard passed',
  'reservation held', 'log durability is fsync; live needs fsync', 'schemas compatible', 'health=OK, override=false',
  'audit chain and seal verified', 'place', 'cancel', 'amend', 'paper', 'shadow', 'live',
  // 33–69: what the guards look at on an order they pass
  'account', 'idempotencyKey', 'principalId', 'roles', 'instrument', 'policyPresent', 'notional', 'maxOrderNotional',
  'openOrders', 'tradingSwitch', 'referencePrice', 'previousPrice', 'ageMs', 'referenceStaleMs', 'referenceJumpBps',
  'priceBandBps', 'price', 'side', 'reduceOnly', 'asset', 'amount', 'available', 'worstPrice', 'takerFeeBps',
  'orderType', 'tif', 'postOnly', 'tickSize', 'lotSize', 'qty', 'minQty', 'maxQty', 'minNotional', 'depth',
  'depthMax', 'accountQueued', 'accountQueuedMax',
  // 70–98: orders, venue reports and the outcomes of venue calls
  'trader', 'normal', 'buy', 'sell', 'limit', 'market', 'GTC', 'IOC', 'FOK', 'DAY', 'sim', 'new', 'fill', 'canceled',
  'rejected', 'expired', 'replaced', 'cancel_rejected', 'maker', 'taker', 'ok', 'retryable', 'unknown', 'lost',
  'local', 'venue', 'result', 'report', 'reconcile',
  // 99–114: what the guards look at otherwise (amends, live mode, failures)
  'error', 'validFromMs', 'validUntilMs', 'maxOpenOrders', 'configDigest', 'recordedConfigDigest',
  'policyLiveAllowed', 'principalLiveAllowed', 'credentialPresent', 'environmentLive', 'haLeader', 'cumQty', 'total',
  'needed', 'held', 'extra',
  // 115–131: the details of a gate check that fails
  'this node is not the HA leader', 'mode=paper, liveExplicit=true', 'mode=shadow, liveExplicit=false',
  'mode=shadow, liveExplicit=true', 'mode=live, liveExplicit=false', 'mode=live, liveExplicit=true',
  'policy missing, expired or not allowing', 'an intake guard did not pass', 'reservation not held',
  'log durability is none; live needs fsync', 'schema incompatibility detected', 'health=OK, override=true',
  'health=DEGRADED, override=false', 'health=DEGRADED, override=true', 'health=CRITICAL, override=false',
  'health=CRITICAL, override=true', 'audit chain or seal not verified',
  // 132–140: switches and roles
  'halted', 'cancel_only', 'HALT', 'CANCEL_ONLY', 'RESUME', 'bot', 'ops', 'auditor', 'admin',
  // 141–154: order states
  'Draft', 'Validated', 'Enqueued', 'Sent', 'AckedOpen', 'Partial', 'Filled', 'CancelRequested', 'CancelPending',
  'Canceled', 'Rejected', 'Expired', 'Failed', 'Unknown',
  // 155–223: reason codes
  'SYNTAX_INVALID', 'IDEMPOTENCY_KEY_MISSING', 'IDEMPOTENCY_CONFLICT', 'PERMISSION_DENIED', 'ACCOUNT_NOT_PERMITTED',
  'POLICY_MISSING', 'POLICY_EXPIRED', 'POLICY_DENIED', 'INSTRUMENT_UNKNOWN', 'SYMBOL_NOT_ALLOWED',
  'MARKET_ORDERS_DISABLED', 'ORDER_NOTIONAL_LIMIT', 'OPEN_ORDERS_LIMIT', 'MODE_HALTED', 'MODE_CANCEL_ONLY',
  'LIVE_NOT_PERMITTED', 'LIVE_NOT_READY', 'CONFIG_DIGEST_MISMATCH', 'DATA_MISSING', 'DATA_STALE', 'DATA_JUMP',
  'PRICE_BAND', 'INSUFFICIENT_FUNDS', 'INSUFFICIENT_POSITION', 'REDUCE_ONLY_WOULD_INCREASE',
  'ORDER_TYPE_UNSUPPORTED', 'TIF_UNSUPPORTED', 'POST_ONLY_UNSUPPORTED', 'REDUCE_ONLY_UNSUPPORTED', 'QTY_BELOW_MIN',
  'QTY_ABOVE_MAX', 'NOTIONAL_BELOW_MIN', 'LANE_FULL', 'OVERLOADED', 'GATE_BLOCKED', 'SHADOW_NOT_SENT',
  'ORDER_NOT_FOUND', 'ORDER_NOT_CANCELABLE', 'ORDER_NOT_RESENDABLE', 'CANCELED_BEFORE_SEND', 'USER_CANCEL',
  'ORDER_NOT_AMENDABLE', 'AMEND_PENDING', 'AMEND_QTY_BELOW_FILLED', 'AMEND_SUPERSEDED', 'AMEND_NOT_APPLIED',
  'VENUE_AMEND_REJECTED', 'VENUE_REJECTED', 'VENUE_RETRYABLE', 'VENUE_OUTCOME_UNKNOWN', 'VENUE_CANCELED',
  'VENUE_EXPIRED', 'VENUE_CANCEL_REJECTED', 'VENUE_DUPLICATE_CLIENT_ORDER_ID', 'VENUE_UNKNOWN_ORDER',
  'REPORT_DUPLICATE', 'REPORT_ORPHANED', 'FILL_OVERFILL', 'FILLS_MISSED', 'FILL_NOT_MONOTONIC', 'TRANSITION_REFUSED',
  'RECONCILE_NOT_FOUND', 'RECONCILE_CONVERGED', 'RECONCILE_SYNTHETIC_FILL', 'KILL_SWITCH_HALT',
  'KILL_SWITCH_CANCEL_ONLY', 'KILL_SWITCH_RESUME', 'FLATTEN_REQUESTED', 'FLATTEN_NO_PRICE',
])

const INDEXES: ReadonlyMap<string, number> = new Map(VOCABULARY.map((word, index) => [word, index]))

const WORD_LENGTH_MAX = Math.max(...VOCABULARY.map((word) => word.length))

/**
 * Which first characters the words of each length start with: bit `code` of the 128-bit set at `length × 4`. Every
 * word is ASCII. Most strings the writer looks up are ids, amounts and digests made for this record, whose length
 * and first character no word has; they are answered here without hashing them for the map.
 */
const FIRST_CODES_BY_LENGTH = (() => {
  const sets = new Uint32Array((WORD_LENGTH_MAX + 1) * 4)
  for (const word of VOCABULARY) {
    const code = word.charCodeAt(0)
    if (code >= 0x80) throw new Error(`vocabulary: ${JSON.stringify(word)} does not start with an ASCII character`)
    sets[word.length * 4 + (code >>> 5)]! |= 1 << (code & 31)
  }
  return sets
})()

/** The index of `text` in the vocabulary, or -1 when it is not a word. */
export function wordIndexOf(text: string): number {
  const length = text.length
  if (length > WORD_LENGTH_MAX || length === 0) return -1
  const code = text.charCodeAt(0)
  if (code >= 0x80 || (FIRST_CODES_BY_LENGTH[length * 4 + (code >>> 5)]! & (1 << (code & 31))) === 0) return -1
  return INDEXES.get(text) ?? -1
}
