/**
 * The FIX venues `egress serve` runs from config `venues` (src/config/venues.ts): one `FixVenue` per entry, its
 * sequence numbers in the gateway's log (LogFixSessionStore), its instruments added to the kernel's, and its static
 * reference prices (test venues only) as the data-health guard's source.
 *
 * Order of life: the adapters are built before the gateway (the gateway takes its venues at start) but their sessions
 * start only once the gateway has opened and replayed the log — the store appends through the engine and reads the
 * log and the restored snapshot's section, and the engine is the log's only writer. `fixVenueSessions` starts them
 * there (GatewayOptions.venueSessions: after the restore, before bootstrap) and waits for their Logon, each within its `logonWaitMs` (config),
 * so bootstrap reconciles FIX orders left in flight, and resends those the venue never got, before intake opens. A
 * venue not logged on in time is said in the log and left reconnecting: its orders left Unknown stay so until a read
 * back settles them. Sessions stop before the gateway closes the log, because a Logout takes a sequence number and the
 * number is saved first.
 */

import { X509Certificate } from 'node:crypto'
import { readFailureOf, readFileBounded } from '../config/bounded-read.ts'
import { ConfigError, FIX_LOGON_WAIT_MS_DEFAULT, type FixVenueConfig, type VenueInstrumentConfig } from '../config/index.ts'
import type { Clock } from '../domain/clock.ts'
import { parseDecimal } from '../domain/decimal.ts'
import type { Instrument } from '../domain/instruments.ts'
import { orderIdFromClientId } from '../domain/orders.ts'
import { venueFormOf } from '../kernel/index.ts'
import type { Engine } from '../runtime/engine.ts'
import { EngineOverloadedError } from '../runtime/engine-types.ts'
import type { Gateway, VenueSessions } from '../runtime/gateway.ts'
import type { PriceSource } from '../runtime/market-feed.ts'
import type { SnapshotSectionSource } from '../runtime/snapshot/index.ts'
import { kernelInstrumentOf } from './venue-instruments.ts'
import { FIX_CODEC_LIMITS_DEFAULT, fixExecInst, fixOrdType, fixTimeInForce, FixVenue, LogFixSessionStore, type FixConnect, type FixLog, type FixOrderFacts, type FixSeqNumLog, type FixSessionOptions, type FixSessionStore, type FixVenueOptions } from '../venues/fix/index.ts'

export interface ServedFixVenue {
  name: string
  adapter: FixVenue
  store: LogFixSessionStore
  prices: PriceSource
  instruments: Instrument[]
  section: SnapshotSectionSource
  /** How long a start waits for this session's Logon (config `logonWaitMs`, else FIX_LOGON_WAIT_MS_DEFAULT). */
  logonWaitMs: number
}

export interface FixVenuesOptions {
  clock: Clock
  /** The running engine; throws until the gateway has started (nothing asks before the sessions start). */
  engine: () => Engine
  /** A section of the snapshot the gateway restored from, by name. */
  restoredSection: (name: string) => Uint8Array | undefined
  /** Where session records go; the session's default (JSON lines on stderr) when absent. */
  log?: FixLog
  /** The sessions' transport (tests: an in-process acceptor); TCP (or TLS) to the configured host when absent. */
  connect?: FixConnect
}

export function buildFixVenues(configs: readonly FixVenueConfig[], options: FixVenuesOptions): ServedFixVenue[] {
  const seqNumLog = engineSeqNumLog(options.engine)
  const lookupOrder = orderFactsLookup(options.engine)
  return configs.map((config, index) => {
    const store = new LogFixSessionStore({
      venue: config.name,
      log: seqNumLog,
      restoredSection: () => options.restoredSection(LogFixSessionStore.sectionName(config.name)),
    })
    const adapter = new FixVenue(fixVenueOptionsOf(config, { store, clock: options.clock, lookupOrder, log: options.log, connect: options.connect, caField: `venues.${index}.tls.caFile` }))
    const section: SnapshotSectionSource = { name: LogFixSessionStore.sectionName(config.name), capture: () => store.capture() }
    const logonWaitMs = config.logonWaitMs ?? FIX_LOGON_WAIT_MS_DEFAULT
    return { name: config.name, adapter, store, prices: staticPrices(config, options.clock), instruments: fixInstruments(config), section, logonWaitMs }
  })
}

/**
 * A FixVenue's options from its config entry. Fields the config leaves unset (and keeps out of the digest) are left
 * out here too, so the adapter applies its own defaults (venue-options.ts, session-options.ts).
 */
export function fixVenueOptionsOf(
  config: FixVenueConfig,
  wiring: {
    store: FixSessionStore
    clock: Clock
    lookupOrder: FixVenueOptions['lookupOrder']
    log: FixLog | undefined
    connect: FixConnect | undefined
    /** The config path of this venue's `tls.caFile`, which a ConfigError about the file names (`venues.N.tls.caFile`). */
    caField: string
  },
): FixVenueOptions {
  return {
    venue: config.name,
    requestTimeoutMs: config.requestTimeoutMs,
    statusTimeoutMs: config.statusTimeoutMs,
    massStatus: config.massStatus,
    ...(config.openOrdersMax === undefined ? {} : { openOrdersMax: config.openOrdersMax }),
    ...(config.statusOwedWriteOffMs === undefined ? {} : { statusOwedWriteOffMs: config.statusOwedWriteOffMs }),
    ...(config.statusReqIdEchoed === undefined ? {} : { statusReqIdEchoed: config.statusReqIdEchoed }),
    ...(wiring.lookupOrder === undefined ? {} : { lookupOrder: wiring.lookupOrder }),
    session: {
      beginString: config.beginString,
      senderCompId: config.senderCompId,
      targetCompId: config.targetCompId,
      host: config.host,
      port: config.port,
      ...(config.tls === undefined ? {} : { tls: tlsOf(config.tls, wiring.caField) }),
      store: wiring.store,
      clock: wiring.clock,
      heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
      resetOnLogon: config.resetOnLogon,
      ...(config.schedule === undefined ? {} : { schedule: config.schedule }),
      reconnectDelayMsMin: config.reconnectDelayMsMin,
      reconnectDelayMsMax: config.reconnectDelayMsMax,
      ...sessionBounds(config),
      ...(wiring.log === undefined ? {} : { log: wiring.log }),
      ...(wiring.connect === undefined ? {} : { connect: wiring.connect }),
    },
  }
}

/**
 * The session's bounds the config sets (unset: the session's defaults). The read buffer holds at least two of the
 * largest messages, and never less than the codec's default.
 */
function sessionBounds(config: FixVenueConfig): Partial<FixSessionOptions> {
  const { messageBytesMax, queuedMessagesMax, writeBufferBytesMax, garbledMessagesMax, sendingTimeToleranceMs } = config
  return {
    ...(messageBytesMax === undefined ? {} : { limits: { messageBytesMax, bufferBytesMax: Math.max(FIX_CODEC_LIMITS_DEFAULT.bufferBytesMax, 2 * messageBytesMax + 64) } }),
    ...(queuedMessagesMax === undefined ? {} : { queuedMessagesMax }),
    ...(writeBufferBytesMax === undefined ? {} : { writeBufferBytesMax }),
    ...(garbledMessagesMax === undefined ? {} : { garbledMessagesMax }),
    ...(sendingTimeToleranceMs === undefined ? {} : { sendingTimeToleranceMs }),
  }
}

export interface FixVenueSessionsOptions {
  /** Called with the restored gateway before any session starts: the stores' engine and restored sections. */
  attach: (gateway: Gateway) => void
  /** Bound on the wait for Logon, for every venue (tests); default: each venue's own (`ServedFixVenue.logonWaitMs`). */
  logonWaitMs?: number
  /** A line for the operator: a venue not logged on in time. */
  log: (line: string) => void
  /** A venue whose stop failed (the others are stopped all the same). */
  onError: (error: unknown, context: string) => void
}

/**
 * The FIX venues as the gateway's venue sessions: started after the restore and waited for (each up to the bound)
 * before bootstrap, stopped (Logout, numbers saved) before the log closes.
 */
export function fixVenueSessions(venues: readonly ServedFixVenue[], options: FixVenueSessionsOptions): VenueSessions {
  const waitMsOf = (venue: ServedFixVenue): number => options.logonWaitMs ?? venue.logonWaitMs
  return {
    async start(gateway) {
      options.attach(gateway)
      for (const venue of venues) venue.adapter.start()
      const active = await Promise.all(venues.map((venue) => venue.adapter.whenActive(waitMsOf(venue))))
      venues.forEach((venue, index) => {
        if (active[index] === true) return
        options.log(
          `FIX venue ${venue.name}: not logged on within ${waitMsOf(venue)} ms (session ${venue.adapter.session.state}); bootstrap goes on without it and ` +
            'the session keeps reconnecting: its orders left Unknown stay Unknown until a read back settles them, and are not resent by this start',
        )
      })
    },
    async stop() {
      for (const venue of venues) await venue.adapter.stop().catch((error: unknown) => options.onError(error, `stopping FIX venue ${venue.name}`))
    },
  }
}

/** The kernel's instruments for a configured venue. */
export function fixInstruments(config: FixVenueConfig): Instrument[] {
  return config.instruments.map((instrument) => kernelInstrumentOf(config.name, instrument))
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

/** The longest wait between two tries of a sequence-number save the log's queue had no room for. */
const SEQ_NUM_ROOM_WAIT_MS_MAX = 200

/**
 * The log as the store sees it: appends through the engine (in order with everything else), reads from its WAL. A save
 * the log's queue has no room for waits for room and goes again (10 ms, doubling to 200 ms): a full queue is a moment
 * of load, which a session must ride out as intake does — taken for a failed store, it ended the session for good (no
 * reconnect: the venue's open orders could not be cancelled until a restart). A dead log still fails the save.
 */
export function engineSeqNumLog(engine: () => Engine, sleep: (ms: number) => Promise<void> = Bun.sleep): FixSeqNumLog {
  return {
    append: async (records) => {
      for (let waitMs = 10; ; waitMs = Math.min(waitMs * 2, SEQ_NUM_ROOM_WAIT_MS_MAX)) {
        try {
          return await engine().appendRecords(records)
        } catch (error) {
          // A closed or closing log has no room either, and says "full": only a live log's full queue is waited for
          // (review: a log closed without closeForStop, at a failed start, kept this loop and the process alive).
          const { wal } = engine()
          if (!(error instanceof EngineOverloadedError) || wal.fatalError !== null || wal.isClosed) throw error
        }
        await sleep(waitMs)
      }
    },
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
    // As it was sent (the facts the adapter remembered at the send): a protected market order is a limit at its
    // protection price, IOC or FOK (src/kernel/venue-form.ts), whose status answer without a Price reads as that price.
    const form = venueFormOf(order)
    const execInst = fixExecInst(order)
    return {
      clientOrderId,
      account: order.accountId,
      symbol: order.symbol,
      side: order.side,
      qty: order.qty,
      ...(form.price === undefined ? {} : { price: form.price }),
      ordType: fixOrdType(form.type),
      timeInForce: fixTimeInForce(form.tif),
      ...(execInst === undefined ? {} : { execInst }),
      ...(order.venueOrderId === null ? {} : { venueOrderId: order.venueOrderId }),
    }
  }
}

function tlsOf(tls: NonNullable<FixVenueConfig['tls']>, caField: string): { servername?: string; ca?: string } {
  return {
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    ...(tls.caFile === undefined ? {} : { ca: caFileText(tls.caFile, caField) }),
  }
}

/** A CA bundle is a few hundred KiB at most (every root CA Mozilla trusts, in PEM, is about 220 KiB). */
export const CA_FILE_BYTES_MAX = 1024 * 1024

/**
 * The CA file's PEM text, bounded and checked to hold a certificate, or a ConfigError naming the field and the file.
 * Read with readFileSync before: a missing file stopped the start with node's `ENOENT: no such file or directory,
 * open …` (no field), a directory with `EISDIR: illegal operation on a directory, read` (no file either), /dev/zero
 * grew the process until ENOMEM; a file holding no certificate was taken, and every TLS connect to the venue failed.
 */
function caFileText(path: string, field: string): string {
  const refuse = (why: string): ConfigError => new ConfigError([{ path: field, message: `CA file ${path}: ${why}` }])
  let bytes: Uint8Array
  try {
    bytes = readFileBounded(path, CA_FILE_BYTES_MAX, { allowPipes: false })
  } catch (error) {
    throw refuse(`cannot read (${readFailureOf(error)})`)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    // The first certificate of the bundle: PEM that does not parse is refused here, not at every connect.
    new X509Certificate(text)
  } catch {
    throw refuse('expected PEM certificates ("-----BEGIN CERTIFICATE-----")')
  }
  return text
}
