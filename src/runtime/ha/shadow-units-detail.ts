/**
 * The build before this one wrote some amounts in a record's `detail` text as the kernel's internal units (an integer,
 * 10^8 per 1: "venue cumQty 10000000, trades explain 0") where this one writes them as decimals ("venue cumQty 0.1,
 * trades explain 0"): the alerts of a synthetic fill, a declined one, an overfill, missed or non-monotonic fills and an
 * amend not above the filled quantity, and an amend not applied (`order.amend_failed`). A standby of this build
 * re-deciding such a leader's command (HA is upgraded standby first; `scripts/redecide-log.ts` on an older log) would
 * call the text a mismatch although the two decided the same. So a leader record that differs from the standby's only
 * in `detail`, and whose detail reads as the standby's once some of its integers are read as units, is the standby's.
 * Only integers standing alone are candidates (not the digits of an id like `sim-x2`, nor a decimal's parts), and
 * every choice of them is tried — an execution id or amend number that is all digits stays as it is — up to
 * UNITS_TOKENS_MAX integers; past that the texts are compared as they are.
 */

import { formatDecimal } from '../../domain/decimal.ts'
import { decodeEvent, encodeEvent, SchemaError, type DomainEvent, type EncodedEvent } from '../../domain/events/index.ts'

/** Integers in one detail tried as units, at most (every subset of them is tried: 2^n texts). */
const UNITS_TOKENS_MAX = 8

const STANDALONE_INTEGER = /(?<![\w.])\d+(?![\w.])/g

interface RecordBytes {
  type: number
  version: number
  payload: Uint8Array
}

/** Whether the leader's record is the standby's `ours` with its detail written in units by the build before. */
export function differsOnlyInUnitsDetail(ours: EncodedEvent, leader: RecordBytes): boolean {
  if (ours.type !== leader.type || ours.version !== leader.version) return false
  const standbyEvent = decoded(ours)
  const leaderEvent = decoded(leader)
  if (standbyEvent === null || leaderEvent === null) return false
  const standbyDetail = detailOf(standbyEvent)
  const leaderDetail = detailOf(leaderEvent)
  if (standbyDetail === null || leaderDetail === null) return false
  // Everything but the detail byte for byte as the standby decided it.
  const withLeaderDetail = encodeEvent({ ...standbyEvent, detail: leaderDetail } as DomainEvent)
  if (!bytesEqual(withLeaderDetail.payload, leader.payload)) return false
  return unitsReadingsOf(leaderDetail).includes(standbyDetail)
}

/** The texts `detail` reads as when any of its standalone integers are taken for units and written as decimals. */
export function unitsReadingsOf(detail: string): string[] {
  const tokens = [...detail.matchAll(STANDALONE_INTEGER)]
  if (tokens.length === 0 || tokens.length > UNITS_TOKENS_MAX) return []
  const readings: string[] = []
  for (let mask = 1; mask < 1 << tokens.length; mask++) {
    let text = ''
    let from = 0
    tokens.forEach((token, index) => {
      const at = token.index ?? 0
      text += detail.slice(from, at) + ((mask >> index) & 1 ? formatDecimal(BigInt(token[0])) : token[0])
      from = at + token[0].length
    })
    readings.push(text + detail.slice(from))
  }
  return readings
}

function decoded(record: RecordBytes): DomainEvent | null {
  try {
    return decodeEvent(record)
  } catch (error) {
    if (error instanceof SchemaError) return null
    throw error
  }
}

function detailOf(event: DomainEvent): string | null {
  const detail = (event as { detail?: unknown }).detail
  return typeof detail === 'string' ? detail : null
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index])
}
