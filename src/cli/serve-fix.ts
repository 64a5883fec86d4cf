/**
 * The FIX venues `egress serve` runs from config `venues` (src/config/venues.ts): one `FixVenue` per entry, its
 * sequence numbers in the gateway's log (LogFixSessionStore), its instruments added to the kernel's, and its static
 * reference prices (test venues only) as the data-health guard's source.
 *
 * Order of life: the adapters are built before the gateway (the gateway takes its venues at start) but their sessions
 * start only once the gateway has opened and replayed the log — the store appends through the engine and reads the
 * log, and the engine is the log's only writer. So bootstrap runs with the sessions down: its reconcile calls answer
 * `retryable` and the executor asks again once the session is logged on. Sessions stop before the gateway closes the
 * log, because a Logout takes a sequence number and the number is saved first.
 */

import type { FixVenueConfig, VenueInstrumentConfig } from '../config/index.ts'
import type { Clock } from '../domain/clock.ts'
import { parseDecimal } from '../domain/decimal.ts'
import type { Instrument } from '../domain/instruments.ts'
import { orderIdFromClientId } from '../domain/orders.ts'
import type { Engine } from '../runtime/engine.ts'
import type { PriceSource } from '../runtime/market-feed.ts'
import type { SnapshotSectionSource } from '../runtime/snapshot/index.ts'
import { fixOrdType, fixTimeInForce, FixVenue, LogFixSessionStore, type FixLog, type FixOrderFacts, type FixSeqNumLog } from '../venues/fix/index.ts'
import { readFileSync } from 'node:fs'

export interface ServedFixVenue {
  name: string
  adapter: FixVenue
  store: LogFixSessionStore
  prices: PriceSource
  instruments: Instrument[]
  section: SnapshotSectionSource
}

export interface FixVenuesOptions {
  clock: Clock
  /** The running engine; throws until the gateway has started (nothing asks before the sessions start). */
  engine: () => Engine
  /** A section of the snapshot the gateway restored from, by name. */
  restoredSection: (name: string) => Uint8Array | undefined
  /** Where session records go; the session's default (JSON lines on stderr) when absent. */
  log?: FixLog
}

export function buildFixVenues(configs: readonly FixVenueConfig[], options: FixVenuesOptions): ServedFixVenue[] {
  const seqNumLog = engineSeqNumLog(options.engine)
  const lookupOrder = orderFactsLookup(options.engine)
  return configs.map((config) => {
    const store = new LogFixSessionStore({
      venue: config.name,
      log: seqNumLog,
      restoredSection: () => options.restoredSection(LogFixSessionStore.sectionName(config.name)),
    })
    const adapter = new FixVenue({
      venue: config.name,
      requestTimeoutMs: config.requestTimeoutMs,
      statusTimeoutMs: config.statusTimeoutMs,
      massStatus: config.massStatus,
      lookupOrder,
      session: {
        beginString: config.beginString,
        senderCompId: config.senderCompId,
        targetCompId: config.targetCompId,
        host: config.host,
        port: config.port,
        ...(config.tls === undefined ? {} : { tls: tlsOf(config.tls) }),
        store,
        clock: options.clock,
        heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
        resetOnLogon: config.resetOnLogon,
        ...(config.schedule === undefined ? {} : { schedule: config.schedule }),
        reconnectDelayMsMin: config.reconnectDelayMsMin,
        reconnectDelayMsMax: config.reconnectDelayMsMax,
        ...(options.log === undefined ? {} : { log: options.log }),
      },
    })
    const section: SnapshotSectionSource = { name: LogFixSessionStore.sectionName(config.name), capture: () => store.capture() }
    return { name: config.name, adapter, store, prices: staticPrices(config, options.clock), instruments: fixInstruments(config), section }
  })
}

/** The kernel's instruments for a configured venue. */
export function fixInstruments(config: FixVenueConfig): Instrument[] {
  return config.instruments.map((instrument) => ({
    venue: config.name,
    symbol: instrument.symbol,
    baseAsset: instrument.baseAsset,
    quoteAsset: instrument.quoteAsset,
    tickSize: parseDecimal(instrument.tickSize),
    lotSize: parseDecimal(instrument.lotSize),
    minQty: parseDecimal(instrument.minQty),
    maxQty: parseDecimal(instrument.maxQty),
    minNotional: parseDecimal(instrument.minNotional),
    priceBandBps: instrument.priceBandBps,
    orderTypes: [...instrument.orderTypes],
    timeInForce: [...instrument.timeInForce],
    postOnly: instrument.postOnly,
    reduceOnly: instrument.reduceOnly,
    rateLimitPerSecond: instrument.rateLimitPerSecond,
  }))
}

/**
 * `marketData: "static"`: each instrument's configured price, observed "now" on every read — so the staleness and
 * jump checks always pass and the price band is a band around a fixed number. For test venues only (refused in live).
 */
export function staticPrices(config: FixVenueConfig, clock: Clock): PriceSource {
  const prices = new Map(config.instruments.map((instrument: VenueInstrumentConfig) => [instrument.symbol, instrument.referencePrice]))
  return {
    referencePrice(symbol) {
      const price = prices.get(symbol)
      return price === undefined ? null : { price: parseDecimal(price), observedAtMs: clock.nowMs() }
    },
  }
}

/** The log as the store sees it: appends through the engine (in order with everything else), reads from its WAL. */
export function engineSeqNumLog(engine: () => Engine): FixSeqNumLog {
  return {
    append: (records) => engine().appendRecords(records),
    read: (fromLsn, toLsn) => engine().wal.read(fromLsn, { toLsn }),
    bounds: () => ({ firstLsn: engine().wal.firstLsn, lastLsn: engine().wal.lastLsn }),
  }
}

/**
 * What FIX needs to cancel or ask about an order it has not seen since a restart (side, symbol, quantity), from the
 * kernel's order projection. The id may be the order's own, an amend's or a cancel's (`eg-<orderId>[.aN|.cN]`).
 */
export function orderFactsLookup(engine: () => Engine): (clientOrderId: string) => FixOrderFacts | undefined {
  return (clientOrderId) => {
    const orderId = orderIdFromClientId(clientOrderId)
    const order = orderId === null ? undefined : engine().state.orders.get(orderId)
    if (order === undefined) return undefined
    return {
      clientOrderId,
      account: order.accountId,
      symbol: order.symbol,
      side: order.side,
      qty: order.qty,
      ...(order.price === null ? {} : { price: order.price }),
      ordType: fixOrdType(order.type),
      timeInForce: fixTimeInForce(order.tif),
      ...(order.venueOrderId === null ? {} : { venueOrderId: order.venueOrderId }),
    }
  }
}

function tlsOf(tls: NonNullable<FixVenueConfig['tls']>): { servername?: string; ca?: string } {
  return {
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile, 'utf8') }),
  }
}
