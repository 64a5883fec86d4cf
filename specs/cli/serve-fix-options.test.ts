/** A FIX venue's config entry → the FixVenue's options (src/cli/serve-fix.ts fixVenueOptionsOf). */

import { describe, expect, test } from 'bun:test'
import { fixVenueOptionsOf } from '../../src/cli/serve-fix.ts'
import { fixVenueConfigs, parseConfig, type FixVenueConfig } from '../../src/config/index.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import { FIX_CODEC_LIMITS_DEFAULT, MemoryFixSessionStore } from '../../src/venues/fix/index.ts'
import { FIX_SENDING_TIME_TOLERANCE_MS, resolveFixSessionOptions } from '../../src/venues/fix/session-options.ts'
import { FIX_OPEN_ORDERS_MAX, resolveFixVenueOptions } from '../../src/venues/fix/venue-options.ts'

function venueConfig(over: Record<string, unknown> = {}): FixVenueConfig {
  const config = parseConfig({
    venues: [{
      type: 'fix', name: 'broker-a', host: '127.0.0.1', port: 9878, beginString: 'FIX.4.4', senderCompId: 'EGRESS', targetCompId: 'BROKER',
      marketData: 'static',
      instruments: [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }],
      ...over,
    }],
  })
  const venue = fixVenueConfigs(config.venues)[0]
  if (venue === undefined) throw new Error('no venue parsed')
  return venue
}

function resolved(config: FixVenueConfig): ReturnType<typeof resolveFixVenueOptions> {
  const wiring = { store: new MemoryFixSessionStore(), clock: new SimClock({ startMs: 0 }), lookupOrder: undefined, log: undefined, connect: undefined, caField: 'venues.0.tls.caFile' }
  return resolveFixVenueOptions(fixVenueOptionsOf(config, wiring))
}

describe('fixVenueOptionsOf', () => {
  test("the config's openOrdersMax bounds the adapter's mass status answer", () => {
    expect(resolved(venueConfig({ massStatus: true, openOrdersMax: 250 }))).toMatchObject({ massStatus: true, openOrdersMax: 250 })
  })

  test("unset, the adapter's default applies (FIX_OPEN_ORDERS_MAX, 100,000)", () => {
    expect(FIX_OPEN_ORDERS_MAX).toBe(100_000)
    expect(resolved(venueConfig()).openOrdersMax).toBe(FIX_OPEN_ORDERS_MAX)
  })

  test("the session's bounds pass through as configured; unset, the session's defaults apply", () => {
    const session = (over: Record<string, unknown>) => {
      const wiring = { store: new MemoryFixSessionStore(), clock: new SimClock({ startMs: 0 }), lookupOrder: undefined, log: undefined, connect: undefined, caField: 'venues.0.tls.caFile' }
      return resolveFixSessionOptions(fixVenueOptionsOf(venueConfig(over), wiring).session)
    }
    expect(session({ messageBytesMax: 2 * 1024 * 1024, queuedMessagesMax: 50, writeBufferBytesMax: 65_536, garbledMessagesMax: 7, sendingTimeToleranceMs: 30_000 })).toMatchObject({
      limits: { messageBytesMax: 2 * 1024 * 1024, bufferBytesMax: 4 * 1024 * 1024 + 64 },
      queuedMessagesMax: 50,
      writeBufferBytesMax: 65_536,
      garbledMessagesMax: 7,
      sendingTimeToleranceMs: 30_000,
    })
    expect(session({ messageBytesMax: 4_096 }).limits).toEqual({ messageBytesMax: 4_096, bufferBytesMax: FIX_CODEC_LIMITS_DEFAULT.bufferBytesMax })
    expect(session({})).toMatchObject({ limits: FIX_CODEC_LIMITS_DEFAULT, queuedMessagesMax: 10_000, writeBufferBytesMax: 4 * 1024 * 1024, garbledMessagesMax: 3, sendingTimeToleranceMs: FIX_SENDING_TIME_TOLERANCE_MS })
  })

  test('the other adapter options pass through as configured', () => {
    expect(resolved(venueConfig({ requestTimeoutMs: 2_000, statusTimeoutMs: 1_000, statusOwedWriteOffMs: 3_000, statusReqIdEchoed: false }))).toMatchObject({
      venue: 'broker-a',
      requestTimeoutMs: 2_000,
      statusTimeoutMs: 1_000,
      statusOwedWriteOffMs: 3_000,
      statusReqIdEchoed: false,
    })
  })
})
