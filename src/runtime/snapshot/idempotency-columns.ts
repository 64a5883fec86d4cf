/**
 * The kernel's idempotency index in a snapshot. It is the one collection that grows with every order ever placed
 * (terminal orders leave the state, their keys stay: 425k entries at 2M events), so it is stored by columns rather
 * than one record per entry, shaped for a fast JSON.parse:
 *
 *   [keys, orderIds, digests, outcomes, rejected]
 *
 * - `keys` and `orderIds` as strings (index keys hold no character JSON must escape — see idempotencyIndexKey — and
 *   escaped strings parse several times slower), every body digest (64 hex characters) in the one string `digests`;
 * - `outcomes` one character per entry ('a' accepted, 'r' rejected), and `rejected` the [position, reason, guard]
 *   of each rejected entry.
 *
 * Every column is checked on decode. `idempotencyColumnsSliced` writes the same text in slices (a live snapshot).
 */

import type { IdempotencyEntry } from '../../kernel/state.ts'
import { REASON_CODES } from '../../domain/reasons.ts'
import { CodecError, type Codec, type Json } from './codec-kit.ts'

const DIGEST_CHARS = 64
const HEX_TEXT = /^[0-9a-f]*$/
const REASON_SET = new Set<string>(REASON_CODES)
const COLUMNS = 5

type Index = Map<string, IdempotencyEntry>

/** Collects columns entry by entry; `flush` turns what was added since the last flush into JSON text pieces. */
class ColumnWriter {
  private count = 0
  private keys: string[] = []
  private orderIds: string[] = []
  private digests: string[] = []
  private outcomes = ''
  readonly rejected: Json[] = []
  readonly text = { keys: [] as string[], orderIds: [] as string[], digests: [] as string[], outcomes: [] as string[] }

  add(indexKey: string, entry: IdempotencyEntry): void {
    const where = `idempotency[${JSON.stringify(indexKey)}]`
    if (entry.bodyDigest.length !== DIGEST_CHARS || !HEX_TEXT.test(entry.bodyDigest)) throw new CodecError(`${where}: body digest is not ${DIGEST_CHARS} hex characters`)
    if (entry.outcome === 'rejected') this.rejected.push([this.count, entry.reason, entry.guard])
    else if (entry.reason !== null || entry.guard !== null) throw new CodecError(`${where}: an accepted entry holds a reason`)
    this.keys.push(indexKey)
    this.orderIds.push(entry.orderId)
    this.digests.push(entry.bodyDigest)
    this.outcomes += entry.outcome === 'accepted' ? 'a' : 'r'
    this.count++
  }

  /** The arrays themselves (one-go encoding). */
  columns(): Json {
    return [this.keys, this.orderIds, this.digests.join(''), this.outcomes, this.rejected]
  }

  flush(): void {
    if (this.keys.length > 0) {
      this.text.keys.push(JSON.stringify(this.keys).slice(1, -1))
      this.text.orderIds.push(JSON.stringify(this.orderIds).slice(1, -1))
    }
    this.text.digests.push(this.digests.join(''))
    this.text.outcomes.push(this.outcomes)
    this.keys = []
    this.orderIds = []
    this.digests = []
    this.outcomes = ''
  }

  /** The same text as JSON.stringify(columns()) after every entry was flushed. */
  joined(): string {
    const { text } = this
    return `[[${text.keys.join(',')}],[${text.orderIds.join(',')}],${JSON.stringify(text.digests.join(''))},${JSON.stringify(text.outcomes.join(''))},${JSON.stringify(this.rejected)}]`
  }
}

export const idempotencyColumns: Codec<Index> = {
  shape: `idempotencyColumns(keys:array(str),orderIds:array(str),digests:hex${DIGEST_CHARS},outcomes:chars(a|r),rejected:array([num,nullable(reason),nullable(str)]))`,
  encode: (index) => {
    const writer = new ColumnWriter()
    for (const [key, entry] of index) writer.add(key, entry)
    return writer.columns()
  },
  decode: (json, path) => decodeColumns(json, path),
}

/** The columns as JSON text, `entriesPerSlice` entries per step with a yield between; same text as the codec's. */
export async function idempotencyColumnsSliced(index: Index, options: { entriesPerSlice: number; pause: () => Promise<void> }): Promise<string> {
  const writer = new ColumnWriter()
  let inSlice = 0
  for (const [key, entry] of index) {
    writer.add(key, entry)
    if (++inSlice < options.entriesPerSlice) continue
    writer.flush()
    inSlice = 0
    await options.pause()
  }
  writer.flush()
  return writer.joined()
}

function decodeColumns(json: unknown, path: string): Index {
  if (!Array.isArray(json) || json.length !== COLUMNS) throw new CodecError(`${path}: expected the ${COLUMNS} idempotency columns`)
  const [keys, orderIds, digests, outcomes, rejected] = json as unknown[]
  if (!Array.isArray(keys) || !Array.isArray(orderIds) || typeof digests !== 'string' || typeof outcomes !== 'string' || !Array.isArray(rejected)) {
    throw new CodecError(`${path}: expected keys[], orderIds[], digests, outcomes, rejected[]`)
  }
  const count = keys.length
  if (orderIds.length !== count || outcomes.length !== count || digests.length !== count * DIGEST_CHARS || !HEX_TEXT.test(digests)) {
    throw new CodecError(`${path}: columns of different lengths or digests that are not hex (${count} keys)`)
  }
  const details = rejectedDetails(rejected, outcomes, path)
  const index: Index = new Map()
  for (let at = 0; at < count; at++) {
    const key = keys[at]
    const orderId = orderIds[at]
    if (typeof key !== 'string' || typeof orderId !== 'string') throw new CodecError(`${path}[${at}]: expected a string key and order id`)
    const bodyDigest = digests.slice(at * DIGEST_CHARS, (at + 1) * DIGEST_CHARS)
    const outcome = outcomes.charCodeAt(at)
    if (outcome === 97) index.set(key, { bodyDigest, orderId, outcome: 'accepted', reason: null, guard: null })
    else {
      const detail = details.get(at)
      if (outcome !== 114 || detail === undefined) throw new CodecError(`${path}[${at}]: outcome must be a (accepted) or r (rejected, with its reason)`)
      index.set(key, { bodyDigest, orderId, outcome: 'rejected', reason: detail.reason, guard: detail.guard })
    }
  }
  if (index.size !== count) throw new CodecError(`${path}: duplicate keys`)
  return index
}

function rejectedDetails(rejected: unknown[], outcomes: string, path: string): Map<number, { reason: IdempotencyEntry['reason']; guard: string | null }> {
  const details = new Map<number, { reason: IdempotencyEntry['reason']; guard: string | null }>()
  for (const item of rejected) {
    const [at, why, guard] = Array.isArray(item) && item.length === 3 ? item : []
    if (!Number.isSafeInteger(at) || (why !== null && (typeof why !== 'string' || !REASON_SET.has(why))) || (guard !== null && typeof guard !== 'string') || outcomes[at as number] !== 'r') {
      throw new CodecError(`${path}.rejected: expected [position of a rejected entry, reason, guard], got ${JSON.stringify(item)?.slice(0, 60)}`)
    }
    details.set(at as number, { reason: why as IdempotencyEntry['reason'], guard: guard as string | null })
  }
  return details
}
