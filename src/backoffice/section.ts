/**
 * The back office's part of a snapshot (section `backoffice`): the ledger and the break book at LSN x, and the query
 * model's SQLite image at the same x, with the query model's content digest. Restoring it lets the back office start
 * at x instead of replaying the whole log — and after compaction it is the only place the history before the log's
 * first LSN still lives.
 *
 *   [8]   magic "EGBOSEC1"
 *   u32   header length (little-endian), then the header, UTF-8 JSON (SectionHeader)
 *   [n]   the ledger and break book, tagged JSON (tagged-json.ts)
 *   [m]   the SQLite image of the query model at x (meta.last_lsn = x)
 *
 * The snapshot file's digest covers the bytes; the header's version is one this build reads (its own, or an older one
 * it upgrades on load) or the section is refused (and the back office falls back to the log), never read under another
 * layout.
 */

import { BreakBook } from './breaks.ts'
import { coveredFillsProblem } from './covered-fills.ts'
import type { KernelParams } from '../domain/kernel-config.ts'
import { GenerationalMap } from '../domain/generational-map.ts'
import type { OrderState } from '../domain/states.ts'
import type { LedgerState } from './ledger-state.ts'
import type { TrackedOrder } from './orders.ts'
import { positionKey } from './positions.ts'
import { sectionFormOf, trackedOrderFromSection } from './section-orders.ts'
import { suspectBeforeMarks, upgradeToLots, upgradeToPricedLots, upgradeV1Ledger } from './section-upgrades.ts'
import { FRACTION_ONE } from './synthetic-lots.ts'
import type { QueryModelDigest } from './store.ts'
import { decodeTagged, encodeTaggedSteps } from './tagged-json.ts'
import { venueFactsProblem } from './venue-facts.ts'

export const BACKOFFICE_SECTION = 'backoffice'
export const BACKOFFICE_SECTION_FORMAT = 'egress.backoffice-section'
/**
 * 2: the ledger holds its retention (endedOrders, retention, retiredThroughAtMs, venueAccounts, each order's
 * acceptedLsn; src/backoffice/retention.ts). Version 1 is still read, upgraded on load (upgradeV1Ledger).
 * 3: positions hold their synthetic lots (Position.syntheticLots, synthetic-lots.ts) and the ledger
 * lotsUntrackedThroughLsn. Versions 1 and 2 are still read: their ledger has no lots, so its lotsUntrackedThroughLsn
 * is the section's LSN (upgradeToLots).
 * 4: each segment of a lot holds the price its synthetic fill booked at (SyntheticSegment.price), each lot whether
 * those were mixed (SyntheticLot.mixedPrices). Version 3 is still read: its segments' price is null (unknown), its lots
 * not mixed, so their true-ups split as that build split them (positions.ts).
 * 5: the query model image is of version 2 (store-schema.ts: true-up fills), its digest over that version's tables.
 * Versions 1 to 4 are still read: their image is of version 1 and digests as such, whatever `model_version` row the
 * file that build copied held (section-model.ts); restored, it is upgraded in place on a compacted log, and passed
 * over for a rebuild from the log on a whole one (projector-start.ts, rebuild.ts).
 * An older build refuses a version 5 section rather than write on an image it does not keep whole. A held order of
 * version 5 may also carry venueRanges and syntheticRanges (venue-ranges.ts), added without a new version: absent on
 * almost every order and in sections written before, which read as fills placed at egress's cumulative quantity, as
 * those builds placed them; a build before them reads past them (section-orders.ts).
 */
export const BACKOFFICE_SECTION_VERSION = 5
/** The first section version whose image says its own query model version (store-schema.ts). */
export const SECTION_VERSION_MODEL_VERSIONED = 5
const VERSIONS_READ: readonly number[] = [1, 2, 3, 4, BACKOFFICE_SECTION_VERSION]
const MAGIC = new TextEncoder().encode('EGBOSEC1')
const HEADER_BYTES_MAX = 1 << 20
/** The bytes of the image copied into a section between two yields of a sliced encode (sectionEncodeSteps). */
const COPY_SLICE_BYTES = 8 << 20

export class BackOfficeSectionError extends Error {
  override readonly name = 'BackOfficeSectionError'
  constructor(
    readonly code: 'HEADER_INVALID' | 'FORMAT_VERSION' | 'STATE_INVALID' | 'LOG_MISMATCH',
    message: string,
  ) {
    super(message)
  }
}

export interface SectionHeader {
  format: typeof BACKOFFICE_SECTION_FORMAT
  version: number
  /** Every record up to and including this LSN is in the ledger, the break book and the image. */
  lsn: number
  /** Chain head (hex) at `lsn`, checked against the log before the section is used. */
  chainHead: string
  queryModel: QueryModelDigest
  stateBytes: number
  imageBytes: number
}

export interface BackOfficeSection {
  header: SectionHeader
  ledger: LedgerState
  breaks: BreakBook
  image: Uint8Array
}

interface BreakBookState {
  open: BreakBook['open']
  lastRun: BreakBook['lastRun']
  openedTotal: number
  clearedTotal: number
  lastLsn: number
}

export interface SectionContent {
  lsn: number
  chainHead: string
  queryModel: QueryModelDigest
  ledger: LedgerState
  breaks: BreakBook
  image: Uint8Array
}

export function encodeSection(section: SectionContent): Uint8Array {
  const steps = sectionEncodeSteps(section, Number.POSITIVE_INFINITY)
  for (let step = steps.next(); ; step = steps.next()) if (step.done === true) return step.value
}

/**
 * The same bytes in steps (a running snapshot's: section-capture.ts), a yield after each `entriesPerSlice` held orders
 * (encodeTaggedSteps), each part of the state's text encoded and each COPY_SLICE_BYTES of the image copied.
 */
export function* sectionEncodeSteps(section: SectionContent, entriesPerSlice: number): Generator<void, Uint8Array> {
  const breaks: BreakBookState = { open: section.breaks.open, lastRun: section.breaks.lastRun, openedTotal: section.breaks.openedTotal, clearedTotal: section.breaks.clearedTotal, lastLsn: section.breaks.lastLsn }
  // Each held order as builds before this one wrote it (section-orders.ts): the ledger's own layout is not the format.
  // The fee rate (synthetic-fee-hold.ts) once a kernel.configured recorded one, 0 included: a ledger before any writes
  // the bytes the builds before wrote. Left out, a rate of 0 read back as the running kernel's, which a later
  // kernel.configured may have changed: the records after the section then held a fee the kernel did not.
  // The hold rule (LedgerState.holdRule) likewise only once the log adopted one: absent reads as none adopted.
  const ledger: Partial<LedgerState> = { ...section.ledger }
  if (ledger.takerFeeBps === null) delete ledger.takerFeeBps
  if (ledger.holdRule === null) delete ledger.holdRule
  const texts = yield* encodeTaggedSteps({ ledger, breaks }, { map: section.ledger.orders, form: sectionFormOf }, entriesPerSlice)
  const sliced = Number.isFinite(entriesPerSlice)
  const encoder = new TextEncoder()
  const state: Uint8Array[] = []
  let stateBytes = 0
  for (const text of texts) {
    state.push(encoder.encode(text))
    stateBytes += state.at(-1)?.byteLength ?? 0
    if (sliced) yield
  }
  const header: SectionHeader = {
    format: BACKOFFICE_SECTION_FORMAT,
    version: BACKOFFICE_SECTION_VERSION,
    lsn: section.lsn,
    chainHead: section.chainHead,
    queryModel: section.queryModel,
    stateBytes,
    imageBytes: section.image.byteLength,
  }
  const headerBytes = encoder.encode(JSON.stringify(header))
  const bytes = new Uint8Array(MAGIC.byteLength + 4 + headerBytes.byteLength + stateBytes + section.image.byteLength)
  bytes.set(MAGIC, 0)
  new DataView(bytes.buffer).setUint32(MAGIC.byteLength, headerBytes.byteLength, true)
  let offset = MAGIC.byteLength + 4
  for (const part of [headerBytes, ...state]) {
    bytes.set(part, offset)
    offset += part.byteLength
  }
  for (let from = 0; from < section.image.byteLength; from += COPY_SLICE_BYTES) {
    if (sliced) yield
    bytes.set(section.image.subarray(from, from + COPY_SLICE_BYTES), offset + from)
  }
  return bytes
}

/** Only the header: enough to name the section's LSN and query-model digest without decoding the state. */
export function sectionHeaderOf(bytes: Uint8Array): SectionHeader {
  return split(bytes).header
}

/**
 * The LSN a snapshot's back-office section is built at, or null when it has none or its header does not read (no
 * start uses such a section: projector-start.ts). A snapshot is named by its kernel state's LSN; the section is at or
 * after it, covering the records after the last kernel event that the kernel does not apply (a reconcile's, break
 * records, seals: projector.ts captureSection). Whoever keeps or copies a snapshot with a log cut at an LSN between
 * the two must not take its name for everything it holds.
 */
export function snapshotSectionLsn(sections: ReadonlyMap<string, Uint8Array>): number | null {
  const bytes = sections.get(BACKOFFICE_SECTION)
  if (bytes === undefined) return null
  try {
    return sectionHeaderOf(bytes).lsn
  } catch {
    return null
  }
}

/**
 * What a version 1 section lacks and the running kernel knows: when each ended order it still holds ended, and how
 * long it keeps them. Without it (offline rebuilds) the upgraded ledger retires nothing held before it.
 */
export interface SectionUpgradeSource {
  terminalOrderIds: ReadonlyMap<string, number>
  config: { params: KernelParams } | null
  /**
   * The orders the kernel holds: which are bootstrap suspects and when each last had an event, for a section written
   * before the ledger kept either (TrackedOrder.bootstrapSuspect, updatedAtMs: added to version 5 without a new version,
   * an older build reads past them).
   */
  orders: ReadonlyMap<string, { status: OrderState; bootstrapSuspect: boolean; updatedAtMs: number }>
}

/** Told of a decode, with the time it took (ms), whether it succeeded or threw. */
export type SectionDecodeObserver = (elapsedMs: number) => void

export interface DecodeSectionOptions {
  /** What a version 1 section lacks and the running kernel knows; absent or null offline (see SectionUpgradeSource). */
  upgradeFrom?: SectionUpgradeSource | null
  /**
   * Told of this decode: a decode parses and checks the whole ledger, so the offline tools decode each section once.
   * replay-verify and `egress snapshot` take one in their options and hand it down to every decode they make
   * (specs/runtime/snapshot/section-decodes.test.ts and scripts/bench-replay-verify.ts count with it).
   */
  onDecoded?: SectionDecodeObserver
}

export function decodeSection(bytes: Uint8Array, options: DecodeSectionOptions = {}): BackOfficeSection {
  const upgradeFrom = options.upgradeFrom ?? null
  const { onDecoded } = options
  if (onDecoded === undefined) return decodeSectionOnce(bytes, upgradeFrom)
  const started = performance.now()
  try {
    return decodeSectionOnce(bytes, upgradeFrom)
  } finally {
    onDecoded(performance.now() - started)
  }
}

function decodeSectionOnce(bytes: Uint8Array, upgradeFrom: SectionUpgradeSource | null): BackOfficeSection {
  const { header, state, image } = split(bytes)
  let value: { ledger?: LedgerState; breaks?: BreakBookState }
  try {
    value = decodeTagged(new TextDecoder('utf-8', { fatal: true }).decode(state)) as typeof value
  } catch (error) {
    throw new BackOfficeSectionError('STATE_INVALID', `back-office state is not readable: ${String(error)}`)
  }
  const retained = value?.ledger !== undefined && header.version === 1 ? upgradeV1Ledger(value.ledger, upgradeFrom) : value?.ledger
  const ledger = retained !== undefined && header.version < 3 ? upgradeToLots(retained, header.lsn) : header.version === 3 ? upgradeToPricedLots(retained) : retained
  const breaksState = value?.breaks
  const ledgerValid =
    ledger !== undefined && Number.isSafeInteger(ledger.lastLsn) && ledger.lastLsn <= header.lsn &&
    ledger.books instanceof Map && ledger.positions instanceof Map && ledger.orders instanceof Map &&
    ledger.reserved instanceof Map && ledger.pendingLiquidity instanceof Map && typeof ledger.counters === 'object' &&
    ledger.endedOrders instanceof Map && (ledger.retention === null || (Number.isSafeInteger(ledger.retention?.keptMax) && Number.isSafeInteger(ledger.retention?.graceMs) &&
      (ledger.retention.heldMax === undefined || ledger.retention.heldMax === null || Number.isSafeInteger(ledger.retention.heldMax)))) &&
    Number.isSafeInteger(ledger.retiredThroughAtMs) && ledger.venueAccounts instanceof Map &&
    Number.isSafeInteger(ledger.counters.retiredOrders) && Number.isSafeInteger(ledger.counters.unbookedFills) &&
    Number.isSafeInteger(ledger.lotsUntrackedThroughLsn) && ledger.lotsUntrackedThroughLsn >= 0 && ledger.lotsUntrackedThroughLsn <= header.lsn &&
    // Every held order is an object (a [key] pair without a value decodes to undefined).
    [...ledger.orders.values()].every((order: unknown) => typeof order === 'object' && order !== null) &&
    // Every ended order listed is held, with an end time: retention walks this list and removes what it names.
    [...ledger.endedOrders].every(([orderId, endedAtMs]) => ledger.orders.has(orderId) && Number.isSafeInteger(endedAtMs))
  const breaksValid =
    breaksState !== undefined && breaksState.open instanceof Map && Number.isSafeInteger(breaksState.openedTotal) &&
    Number.isSafeInteger(breaksState.clearedTotal) && Number.isSafeInteger(breaksState.lastLsn) && breaksState.lastLsn <= header.lsn
  if (!ledgerValid || !breaksValid) throw new BackOfficeSectionError('STATE_INVALID', 'back-office state fields missing or of the wrong type')
  // A section written before the cap on ended orders held: no cap, as the kernel.configured that ledger saw had none.
  if (ledger.retention !== null && ledger.retention.heldMax === undefined) ledger.retention = { ...ledger.retention, heldMax: null }
  // A section written before the ledger kept the fee rate (synthetic-fee-hold.ts): the running kernel's, the rate its
  // configuration recorded; offline, none recorded (a sell's synthetic fill then holds no fee until a kernel.configured,
  // and the section is written again without it).
  if (ledger.takerFeeBps === undefined) ledger.takerFeeBps = upgradeFrom?.config?.params.takerFeeBps ?? null
  else if (!(typeof ledger.takerFeeBps === 'number' && Number.isSafeInteger(ledger.takerFeeBps) && ledger.takerFeeBps >= 0 && ledger.takerFeeBps <= 10_000)) throw new BackOfficeSectionError('STATE_INVALID', 'takerFeeBps is not a rate in basis points')
  // A section written before the ledger kept the hold rule, or by a ledger whose log adopted none: none adopted, as the
  // kernel's state of those builds (its synthetic fills held nothing).
  if (ledger.holdRule === undefined) ledger.holdRule = null
  else if (!(Number.isSafeInteger(ledger.holdRule) && (ledger.holdRule as number) >= 1)) throw new BackOfficeSectionError('STATE_INVALID', 'holdRule is not a rule number')
  // Each order in the ledger's own layout (section-orders.ts), in a plain Map built entry by entry, then handed over whole.
  const orders = new Map<string, TrackedOrder>()
  for (const [orderId, written] of ledger.orders) {
    const problem = coveredFillsProblem((written as { coveredFills?: unknown }).coveredFills) ?? venueFactsProblem(written)
    if (problem !== null) throw new BackOfficeSectionError('STATE_INVALID', `order ${orderId}: ${problem}`)
    if (typeof (written as { bootstrapSuspect?: unknown }).bootstrapSuspect !== 'boolean') written.bootstrapSuspect = suspectBeforeMarks(written, upgradeFrom)
    // Its last event's time, from the kernel's (as late or later: the order is held at least as long), else unknown (0).
    if (!Number.isSafeInteger(written.updatedAtMs)) written.updatedAtMs = upgradeFrom?.orders.get(orderId)?.updatedAtMs ?? 0
    const order = trackedOrderFromSection(written)
    if (typeof order === 'string') throw new BackOfficeSectionError('STATE_INVALID', `order ${orderId}: ${order}`)
    orders.set(orderId, order)
  }
  for (const [key, position] of ledger.positions) {
    const problem = lotsProblem(key, position, orders)
    if (problem !== null) throw new BackOfficeSectionError('STATE_INVALID', `synthetic lots of position ${key.replace('\n', ' ')}: ${problem}`)
  }
  const breaks = new BreakBook()
  for (const [key, open] of breaksState.open) breaks.open.set(key, open)
  breaks.lastRun = breaksState.lastRun
  breaks.openedTotal = breaksState.openedTotal
  breaks.clearedTotal = breaksState.clearedTotal
  breaks.lastLsn = breaksState.lastLsn
  // The per-order Maps as the live ledger holds them (generational-map.ts), so a restored ledger grows as one built
  // from the log does.
  return { header, ledger: { ...ledger, orders: new GenerationalMap(orders), endedOrders: new GenerationalMap(ledger.endedOrders) }, breaks, image }
}

/**
 * What is wrong with a decoded position's lots, or null: absent, or order id → a lot of segments (each a range of
 * quantity with an open fraction within 0 … 1 and a price or null) and the cover noted for its next true-up (null or a range), such as
 * the ledger itself keeps (synthetic-lots.ts). Checked, not trusted: a true-up asserts on what it finds there, and a
 * lot the ledger would never drop or take keeps being scaled. So each lot is of an order the ledger holds, filed under
 * that order's position, its segments in order, disjoint and within the order's cumulative quantity, and open only
 * while the position is open on the order's side (a close to zero or a flip zeroes every fraction).
 */
function lotsProblem(key: string, position: unknown, orders: ReadonlyMap<string, TrackedOrder>): string | null {
  if (typeof position !== 'object' || position === null) return 'the position is not an object'
  const { syntheticLots: lots, netQty } = position as { syntheticLots?: unknown; netQty?: unknown }
  if (lots === undefined) return null
  if (!(lots instanceof Map) || lots.size === 0) return 'not a Map of at least one lot'
  if (typeof netQty !== 'bigint') return 'the position has no net quantity'
  for (const [orderId, lot] of lots as Map<unknown, unknown>) {
    const order = typeof orderId === 'string' ? orders.get(orderId) : undefined
    if (order === undefined) return `a lot of ${String(orderId)}, an order the ledger does not hold`
    if (positionKey(order.accountId, order.venue, order.symbol) !== key) return `the lot of ${orderId} belongs to another position`
    if (typeof order.cumQty !== 'bigint') return `${orderId} has no cumulative quantity`
    const { segments, cover, mixedPrices } = (lot ?? {}) as { segments?: unknown; cover?: unknown; mixedPrices?: unknown }
    if (!Array.isArray(segments) || segments.length === 0 || !(cover === null || rangeValid(cover)) || typeof mixedPrices !== 'boolean') return `the lot of ${orderId} is not segments, a cover and whether mixed`
    const openOnSide = order.side === 'buy' ? netQty > 0n : netQty < 0n
    let previousToQty = 0n
    for (const segment of segments as unknown[]) {
      if (!rangeValid(segment)) return `a segment of ${orderId} is not a range`
      const { fromQty, toQty, openFraction } = segment as { fromQty: bigint; toQty: bigint; openFraction?: unknown }
      if (typeof openFraction !== 'bigint' || openFraction < 0n || openFraction > FRACTION_ONE) return `a segment of ${orderId} has no open fraction within 0 … 1`
      const { price } = segment as { price?: unknown }
      if (!(price === null || (typeof price === 'bigint' && price > 0n))) return `a segment of ${orderId} has no price (a positive amount, or null when unknown)`
      if (price === null && mixedPrices) return `a segment of ${orderId} has an unknown price in a lot of mixed prices`
      if (fromQty < previousToQty) return `the segments of ${orderId} are out of order or overlap`
      if (toQty > order.cumQty) return `a segment of ${orderId} ends past its cumulative quantity ${order.cumQty}`
      if (openFraction > 0n && !openOnSide) return `a segment of ${orderId} is open in a position not open on its ${order.side} side`
      previousToQty = toQty
    }
  }
  return null
}

/** A range of quantity (fromQty, toQty]: not empty, from zero up. */
function rangeValid(range: unknown): boolean {
  const { fromQty, toQty } = (range ?? {}) as { fromQty?: unknown; toQty?: unknown }
  return typeof fromQty === 'bigint' && typeof toQty === 'bigint' && fromQty >= 0n && toQty > fromQty
}

function split(bytes: Uint8Array): { header: SectionHeader; state: Uint8Array; image: Uint8Array } {
  const fixed = MAGIC.byteLength + 4
  if (bytes.byteLength < fixed || MAGIC.some((byte, index) => bytes[index] !== byte)) throw new BackOfficeSectionError('HEADER_INVALID', 'not a back-office section (bad magic)')
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, fixed).getUint32(MAGIC.byteLength, true)
  if (headerLength > HEADER_BYTES_MAX || fixed + headerLength > bytes.byteLength) throw new BackOfficeSectionError('HEADER_INVALID', `header length ${headerLength} does not fit the section`)
  let header: SectionHeader
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(fixed, fixed + headerLength))) as SectionHeader
  } catch (error) {
    throw new BackOfficeSectionError('HEADER_INVALID', `header is not JSON: ${String(error)}`)
  }
  if (header?.format !== BACKOFFICE_SECTION_FORMAT) throw new BackOfficeSectionError('HEADER_INVALID', 'header names another format')
  if (!VERSIONS_READ.includes(header.version)) {
    throw new BackOfficeSectionError('FORMAT_VERSION', `back-office section version ${String(header.version)}, this build reads ${VERSIONS_READ.join(', ')}`)
  }
  const valid =
    Number.isSafeInteger(header.lsn) && header.lsn >= 1 && typeof header.chainHead === 'string' && /^[0-9a-f]{64}$/.test(header.chainHead) &&
    Number.isSafeInteger(header.stateBytes) && header.stateBytes >= 0 && Number.isSafeInteger(header.imageBytes) && header.imageBytes >= 0 &&
    typeof header.queryModel?.digest === 'string' && header.queryModel.lastLsn === header.lsn
  if (!valid) throw new BackOfficeSectionError('HEADER_INVALID', 'header fields missing or of the wrong type')
  const start = fixed + headerLength
  if (start + header.stateBytes + header.imageBytes !== bytes.byteLength) throw new BackOfficeSectionError('HEADER_INVALID', 'section lengths do not add up')
  return {
    header,
    state: bytes.subarray(start, start + header.stateBytes),
    image: bytes.subarray(start + header.stateBytes),
  }
}
