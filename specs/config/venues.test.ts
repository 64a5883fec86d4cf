import { describe, expect, test } from 'bun:test'
import { canonicalConfigJson, configDigest, ConfigError, defaultConfig, FIX_LOGON_WAIT_MS_DEFAULT, FIX_LOGON_WAIT_MS_MAX, FIX_MESSAGE_BYTES_MAX_LIMIT, FIX_MESSAGE_BYTES_MIN, FIX_OPEN_ORDERS_MAX_LIMIT, parseConfig, fixVenueConfigs, type Config, type FixVenueConfig } from '../../src/config/index.ts'

const fixVenue = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'fix',
  name: 'broker-a',
  host: '127.0.0.1',
  port: 9878,
  beginString: 'FIX.4.4',
  senderCompId: 'EGRESS',
  targetCompId: 'BROKER',
  marketData: 'static',
  instruments: [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }],
  ...over,
})

/** The config's first FIX venue. */
function fixOf(config: Config): FixVenueConfig | undefined {
  return fixVenueConfigs(config.venues)[0]
}

function issues(input: unknown): string {
  try {
    parseConfig(input)
  } catch (error) {
    if (error instanceof ConfigError) return error.message
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('config venues', () => {
  test('a FIX venue with only the required fields gets its defaults', () => {
    const venue = fixOf(parseConfig({ venues: [fixVenue()] }))
    expect(venue).toMatchObject({ heartbeatIntervalSeconds: 30, resetOnLogon: 'never', requestTimeoutMs: 10_000, statusTimeoutMs: 5_000, massStatus: false })
    expect(venue?.instruments[0]).toMatchObject({ minNotional: '0', priceBandBps: 500, orderTypes: ['limit'], rateLimitPerSecond: 50 })
  })

  test('a config that does not mention venues keeps its digest (the field has no default)', () => {
    expect(defaultConfig().venues).toBeUndefined()
    expect(canonicalConfigJson(defaultConfig())).not.toContain('venues')
    expect(configDigest(parseConfig({ venues: [fixVenue()] }))).not.toBe(configDigest(defaultConfig()))
  })

  test('logonWaitMs: unset keeps the digest (no default in the schema); 0 to FIX_LOGON_WAIT_MS_MAX ms, else refused', () => {
    expect(fixOf(parseConfig({ venues: [fixVenue()] }))?.logonWaitMs).toBeUndefined()
    expect(canonicalConfigJson(parseConfig({ venues: [fixVenue()] }))).not.toContain('logonWaitMs')
    expect(fixOf(parseConfig({ venues: [fixVenue({ logonWaitMs: 0 })] }))?.logonWaitMs).toBe(0)
    expect(fixOf(parseConfig({ venues: [fixVenue({ logonWaitMs: FIX_LOGON_WAIT_MS_MAX })] }))?.logonWaitMs).toBe(FIX_LOGON_WAIT_MS_MAX)
    expect(issues({ venues: [fixVenue({ logonWaitMs: FIX_LOGON_WAIT_MS_MAX + 1 })] })).toContain(`venues.0.logonWaitMs: expected an integer between 0 and ${FIX_LOGON_WAIT_MS_MAX}`)
    expect(issues({ venues: [fixVenue({ logonWaitMs: -1 })] })).toContain('venues.0.logonWaitMs: expected an integer between 0 and')
    expect(issues({ venues: [fixVenue({ logonWaitMs: 1.5 })] })).toContain('venues.0.logonWaitMs: expected an integer')
    expect(FIX_LOGON_WAIT_MS_DEFAULT).toBe(5_000)
  })

  test('market data must be stated: no marketData is an error, never an unguarded venue', () => {
    const { marketData: _marketData, ...venue } = fixVenue()
    expect(issues({ venues: [venue] })).toContain('venues.0.marketData: required field is missing')
    expect(issues({ venues: [fixVenue({ marketData: 'none' })] })).toContain('venues.0.marketData: expected "static" (per-instrument referencePrice; test venues only), got "none"')
  })

  test('static market data needs a positive referencePrice on every instrument', () => {
    const instruments = [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10' }]
    expect(issues({ venues: [fixVenue({ instruments })] })).toContain('venues.0.instruments.0.referencePrice: marketData "static" needs a positive referencePrice')
  })

  test('static market data is refused in live mode', () => {
    expect(issues({ mode: 'live', auth: { jwksFile: '/keys.json' }, venues: [fixVenue()] })).toContain('venues.0.marketData: static reference prices are for test venues and are refused in live mode')
  })

  test('venue names are unique and "sim" is taken; symbols are unique per venue; sizes are positive', () => {
    const instrument = { symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0', lotSize: '1', minQty: '1', maxQty: '10', referencePrice: '1' }
    const message = issues({ venues: [fixVenue({ name: 'sim' }), fixVenue(), fixVenue({ instruments: [instrument, instrument] })] })
    expect(message).toContain('venues.0.name: "sim" is the built-in sim venue')
    expect(message).toContain('venues.2.name: duplicate venue name "broker-a"')
    expect(message).toContain('venues.2.instruments.1.symbol: duplicate symbol "IBM" on venue "broker-a"')
    expect(message).toContain('venues.2.instruments.0.tickSize: expected a positive amount, got "0"')
  })

  test('a symbol or venue name holding "#" or ":" is refused: flatten closes past the first add "#<n>" to "<venue>:<symbol>" (kernel flatten.ts)', () => {
    // Taken, symbol "IBM#2" beside "IBM" gave a flatten's first close of one the key of the second close of the other,
    // and that close was not sent.
    const instrument = { symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10', referencePrice: '100' }
    const message = issues({ venues: [fixVenue({ instruments: [instrument, { ...instrument, symbol: 'IBM#2' }, { ...instrument, symbol: 'IBM:X' }] }), fixVenue({ name: 'broker:b' }), fixVenue({ name: 'broker#2' })] })
    expect(message).toContain('venues.0.instruments.1.symbol: expected an id of 1-64 characters [A-Za-z0-9._-]')
    expect(message).toContain('venues.0.instruments.2.symbol: expected an id of 1-64 characters [A-Za-z0-9._-]')
    expect(message).toContain('venues.1.name: expected an id of 1-64 characters [A-Za-z0-9._-]')
    expect(message).toContain('venues.2.name: expected an id of 1-64 characters [A-Za-z0-9._-]')
    const sim = { type: 'sim', instruments: [{ symbol: 'SOL-USD#2', baseAsset: 'SOL', quoteAsset: 'USD', tickSize: '0.01', lotSize: '0.01', minQty: '0.01', maxQty: '10', openingPrice: '150' }] }
    expect(issues({ venues: [sim] })).toContain('venues.0.instruments.0.symbol: expected an id of 1-64 characters [A-Za-z0-9._-]')
  })

  test('an instrument no order could ever pass is refused as on the sim: maxQty below minQty, no order type, no time in force', () => {
    const instrument = { symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '100', maxQty: '10', referencePrice: '100' }
    expect(issues({ venues: [fixVenue({ instruments: [instrument] })] })).toContain('venues.0.instruments.0.maxQty: must be ≥ minQty (100), got "10"')
    const tradable = { ...instrument, maxQty: '100' }
    expect(issues({ venues: [fixVenue({ instruments: [{ ...tradable, orderTypes: [] }] })] })).toContain('venues.0.instruments.0.orderTypes: expected at least one order type')
    expect(issues({ venues: [fixVenue({ instruments: [{ ...tradable, timeInForce: [] }] })] })).toContain('venues.0.instruments.0.timeInForce: expected at least one time in force')
    expect(fixOf(parseConfig({ venues: [fixVenue({ instruments: [tradable] })] }))?.instruments[0]).toMatchObject({ minQty: '100', maxQty: '100' })
  })

  test('statusOwedWriteOffMs and statusReqIdEchoed: unset keeps the digest; the write-off is never shorter than the status timeout', () => {
    expect(canonicalConfigJson(parseConfig({ venues: [fixVenue()] }))).not.toContain('statusOwedWriteOffMs')
    expect(canonicalConfigJson(parseConfig({ venues: [fixVenue()] }))).not.toContain('statusReqIdEchoed')
    expect(fixOf(parseConfig({ venues: [fixVenue({ statusOwedWriteOffMs: 5_000, statusReqIdEchoed: false })] }))).toMatchObject({ statusOwedWriteOffMs: 5_000, statusReqIdEchoed: false })
    expect(issues({ venues: [fixVenue({ statusOwedWriteOffMs: 4_999 })] })).toContain('venues.0.statusOwedWriteOffMs: must be ≥ statusTimeoutMs (5000), got 4999')
    expect(issues({ venues: [fixVenue({ statusOwedWriteOffMs: 1.5 })] })).toContain('venues.0.statusOwedWriteOffMs: expected an integer')
    expect(issues({ venues: [fixVenue({ statusReqIdEchoed: 'yes' })] })).toContain('venues.0.statusReqIdEchoed: expected true or false')
  })

  test('openOrdersMax: unset keeps the digest; 1 to FIX_OPEN_ORDERS_MAX_LIMIT, else refused naming the field', () => {
    expect(canonicalConfigJson(parseConfig({ venues: [fixVenue()] }))).not.toContain('openOrdersMax')
    expect(fixOf(parseConfig({ venues: [fixVenue({ massStatus: true, openOrdersMax: 5_000 })] }))).toMatchObject({ massStatus: true, openOrdersMax: 5_000 })
    expect(fixOf(parseConfig({ venues: [fixVenue({ openOrdersMax: FIX_OPEN_ORDERS_MAX_LIMIT })] }))?.openOrdersMax).toBe(FIX_OPEN_ORDERS_MAX_LIMIT)
    expect(issues({ venues: [fixVenue({ openOrdersMax: 0 })] })).toContain(`venues.0.openOrdersMax: expected an integer between 1 and ${FIX_OPEN_ORDERS_MAX_LIMIT}, got 0`)
    expect(issues({ venues: [fixVenue({ openOrdersMax: FIX_OPEN_ORDERS_MAX_LIMIT + 1 })] })).toContain('venues.0.openOrdersMax: expected an integer between 1 and')
    expect(issues({ venues: [fixVenue({ openOrdersMax: 2.5 })] })).toContain('venues.0.openOrdersMax: expected an integer')
    expect(issues({ venues: [fixVenue({ openOrdersMax: '100' })] })).toContain('venues.0.openOrdersMax: expected an integer')
  })

  test("the session's bounds (messageBytesMax, queuedMessagesMax, writeBufferBytesMax, garbledMessagesMax, sendingTimeToleranceMs): unset keeps the digest; bounded, else refused naming the field", () => {
    const bounds = { messageBytesMax: 131_072, queuedMessagesMax: 500, writeBufferBytesMax: 1_048_576, garbledMessagesMax: 5, sendingTimeToleranceMs: 60_000 }
    const canonical = canonicalConfigJson(parseConfig({ venues: [fixVenue()] }))
    for (const name of Object.keys(bounds)) expect(canonical).not.toContain(name)
    expect(fixOf(parseConfig({ venues: [fixVenue(bounds)] }))).toMatchObject(bounds)
    expect(issues({ venues: [fixVenue({ messageBytesMax: FIX_MESSAGE_BYTES_MIN - 1 })] })).toContain(`venues.0.messageBytesMax: expected an integer between ${FIX_MESSAGE_BYTES_MIN} and ${FIX_MESSAGE_BYTES_MAX_LIMIT}`)
    expect(issues({ venues: [fixVenue({ messageBytesMax: FIX_MESSAGE_BYTES_MAX_LIMIT + 1 })] })).toContain('venues.0.messageBytesMax: expected an integer between')
    expect(issues({ venues: [fixVenue({ queuedMessagesMax: 0 })] })).toContain('venues.0.queuedMessagesMax: expected an integer between 1 and')
    expect(issues({ venues: [fixVenue({ writeBufferBytesMax: 1_024 })] })).toContain('venues.0.writeBufferBytesMax: expected an integer between')
    expect(issues({ venues: [fixVenue({ garbledMessagesMax: 1_001 })] })).toContain('venues.0.garbledMessagesMax: expected an integer between 1 and')
    expect(issues({ venues: [fixVenue({ sendingTimeToleranceMs: 999 })] })).toContain('venues.0.sendingTimeToleranceMs: expected an integer between')
    expect(issues({ venues: [fixVenue({ queuedMessagesMax: '10' })] })).toContain('venues.0.queuedMessagesMax: expected an integer')
  })

  test('FIX fields are checked with what was expected', () => {
    const message = issues({ venues: [fixVenue({ beginString: 'FIX.5.0', port: 0, resetOnLogon: 'sometimes', reconnectDelayMsMin: 10, reconnectDelayMsMax: 5, extra: 1 })] })
    expect(message).toContain('venues.0.beginString: expected "FIX.4.2" or "FIX.4.4", got "FIX.5.0"')
    expect(message).toContain('venues.0.port: expected an integer between 1 and 65535, got 0')
    expect(message).toContain('venues.0.resetOnLogon: expected "always" or "never", got "sometimes"')
    expect(message).toContain('venues.0.extra: unknown field')
    expect(issues({ venues: [fixVenue({ reconnectDelayMsMin: 10, reconnectDelayMsMax: 5 })] })).toContain('venues.0.reconnectDelayMsMax: must be ≥ reconnectDelayMsMin (10), got 5')
    expect(issues({ venues: [{ ...fixVenue(), type: 'ws' }] })).toContain('venues.0.type')
  })
})
