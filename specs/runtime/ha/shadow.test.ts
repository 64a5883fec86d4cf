import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { toHex } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { verifyLogDirectory } from '../../../src/audit/index.ts'
import { replayVerify } from '../../../src/runtime/snapshot/index.ts'
import { CommandRecordError, KERNEL_COMMAND, ShadowDecider, decodeCommandRecord, encodeCommandRecord, isCommandRecord, redecideLog } from '../../../src/runtime/ha/index.ts'
import { decide, type KernelCommand } from '../../../src/kernel/index.ts'
import { removeTempDirs } from '../../wal/support.ts'
import { removeDir, run, startStandbyOf, startWorld, traderA, traderB, type World } from '../harness.ts'
import { haHttp, replicator, serveReplication, waitFor } from './support.ts'

afterEach(removeTempDirs)

const encoder = new TextEncoder()

function frameOf(record: { type: number; version: number; payload: Uint8Array }, lsn = 1): { type: number; version: number; payload: Uint8Array; lsn: number } {
  return { ...record, lsn }
}

describe('kernel.command records (0xD010)', () => {
  test('a command comes back exactly: bigints, nulls, a client body with $-keys and bigint-looking members', () => {
    const place: KernelCommand = {
      kind: 'place',
      nowMs: 1_767_225_600_123,
      principal: traderA,
      idempotencyKey: null,
      body: { account: 'acct-a', qty: '0.1', $bigint: '5', nested: { $$x: [1, { $bigint: 'x' }] }, skip: undefined },
      market: { referencePrice: 6_100_000_000_000n, observedAtMs: 1_767_225_600_000, previousPrice: null },
      live: { credentialPresent: false, environmentLive: false, haLeader: true },
      configDigest: 'sim-config',
      buildCommit: 'test',
    }
    const record = encodeCommandRecord(place, 3)
    expect(record.type).toBe(KERNEL_COMMAND.type)
    expect(isCommandRecord(record.type)).toBe(true)
    const decoded = decodeCommandRecord(record)
    expect(decoded.eventCount).toBe(3)
    const { skip: _skip, ...bodyWithoutUndefined } = (place.body as Record<string, unknown>)
    expect(decoded.command).toEqual({ ...place, body: bodyWithoutUndefined })
    // Same command in, same bytes out.
    expect(toHex(encodeCommandRecord(decoded.command, 3).payload)).toBe(toHex(record.payload))
    const fund: KernelCommand = { kind: 'fund', nowMs: 5, principalId: 'ops', accountId: 'acct-a', asset: 'USD', amount: -12_345n, reference: 'r' }
    expect(decodeCommandRecord(encodeCommandRecord(fund, 1)).command).toEqual(fund)
  })

  test('malformed records are refused with typed errors and stable codes', () => {
    const good = encodeCommandRecord({ kind: 'bootstrap', nowMs: 1 }, 1)
    const refusal = (record: { type: number; version: number; payload: Uint8Array }): string => {
      try {
        decodeCommandRecord(record)
      } catch (error) {
        expect(error).toBeInstanceOf(CommandRecordError)
        return (error as CommandRecordError).code
      }
      return 'accepted'
    }
    const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))
    expect(refusal(good)).toBe('accepted')
    expect(refusal({ ...good, type: 0xd001 })).toBe('COMMAND_RECORD_TYPE')
    expect(refusal({ ...good, version: 2 })).toBe('COMMAND_RECORD_VERSION')
    expect(refusal({ ...good, payload: encoder.encode('{"command":') })).toBe('COMMAND_RECORD_JSON')
    expect(refusal({ ...good, payload: new Uint8Array([0xff, 0xfe]) })).toBe('COMMAND_RECORD_JSON')
    expect(refusal({ ...good, payload: json({ command: { kind: 'fund', nowMs: 1, principalId: 'p', accountId: 'a', asset: 'USD', amount: { $bigint: '1.5' }, reference: 'r' }, eventCount: 1 }) })).toBe('COMMAND_RECORD_TAG')
    expect(refusal({ ...good, payload: json({ command: { kind: 'bootstrap', nowMs: 1, $other: 1 }, eventCount: 1 }) })).toBe('COMMAND_RECORD_TAG')
    expect(refusal({ ...good, payload: json({ command: { kind: 'bootstrap', nowMs: { $bigint: '1', extra: 2 } }, eventCount: 1 }) })).toBe('COMMAND_RECORD_TAG')
    expect(refusal({ ...good, payload: json({ command: { kind: 'launch', nowMs: 1 }, eventCount: 1 }) })).toBe('COMMAND_RECORD_SHAPE')
    expect(refusal({ ...good, payload: json({ command: { kind: 'bootstrap', nowMs: -1 }, eventCount: 1 }) })).toBe('COMMAND_RECORD_SHAPE')
    expect(refusal({ ...good, payload: json({ command: { kind: 'bootstrap', nowMs: 1 }, eventCount: 0 }) })).toBe('COMMAND_RECORD_SHAPE')
    expect(refusal({ ...good, payload: json({ command: { kind: 'cancel', nowMs: 1, orderId: 'o' }, eventCount: 1 }) })).toBe('COMMAND_RECORD_SHAPE')
    // Amounts must come back as bigints: a plain number where Units belong is refused.
    expect(refusal({ ...good, payload: json({ command: { kind: 'fund', nowMs: 1, principalId: 'p', accountId: 'a', asset: 'USD', amount: 1, reference: 'r' }, eventCount: 1 }) })).toBe('COMMAND_RECORD_SHAPE')
    expect(() => encodeCommandRecord({ kind: 'place', nowMs: 1, body: new Map() } as unknown as KernelCommand, 1)).toThrow(CommandRecordError)
    expect(() => encodeCommandRecord({ kind: 'bootstrap', nowMs: 1 }, 0)).toThrow(CommandRecordError)
  })

  test('a shadow decider counts an undecodable record as a mismatch and does not throw', () => {
    const shadow = new ShadowDecider()
    const bad = encodeCommandRecord({ kind: 'bootstrap', nowMs: 1 }, 1)
    shadow.command({ ...frameOf({ ...bad, version: 9 }, 7), hash: new Uint8Array(32), epoch: 1 } as never, {} as never)
    expect(shadow.stats.decisions).toBe(1)
    expect(shadow.stats.mismatches).toBe(1)
    expect(shadow.stats.lastMismatches[0]).toMatchObject({ lsn: 7, kind: null })
    expect(shadow.stats.lastMismatches[0]?.difference).toContain('COMMAND_RECORD_VERSION')
  })
})

describe('logs holding command records', () => {
  test('replay, replay-verify, audit verification and a restart read past them as before', async () => {
    const world = await startWorld({ seed: 17 })
    world.gateway.engine.commandRecords = true
    for (let index = 0; index < 4; index++) {
      await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: `logged-${index}` }, null)
    }
    await run(world, 1_000)
    // A command that is not plain data (a Date in a body) is decided and logged as usual, just without its record.
    const odd = await world.gateway.engine.submit({
      kind: 'place', nowMs: world.clock.nowMs(), principal: traderA, idempotencyKey: 'odd', body: { account: 'acct-a', when: new Date(0) }, market: null,
      live: { credentialPresent: false, environmentLive: false, haLeader: true }, configDigest: 'sim-config', buildCommit: 'test',
    })
    expect(odd.lsns.length).toBeGreaterThan(0)
    expect(world.gateway.engine.commandRecordFailures).toBe(1)
    const wal = world.gateway.engine.wal
    expect([...wal.read(wal.firstLsn)].filter((frame) => isCommandRecord(frame.type)).length).toBeGreaterThan(4)
    const statuses = (gateway: Gateway): string[] => [...gateway.engine.state.orders.values()].map((order) => `${order.orderId}:${order.status}`).sort()
    const before = statuses(world.gateway)
    const lastLsn = world.gateway.engine.state.lastLsn
    await world.gateway.stop()
    const audited = await verifyLogDirectory(join(world.dir, 'log'))
    expect(audited.ok).toBe(true)
    const verified = replayVerify(world.dir, { from: 'genesis' })
    expect(verified.problems).toEqual([])
    // Offline, the whole log re-decided from its command records agrees with itself; another kernel input does not.
    const redecided = redecideLog(join(world.dir, 'log'))
    expect(redecided.decisions).toBeGreaterThan(4)
    expect(redecided.mismatches).toBe(0)
    const later = redecideLog(join(world.dir, 'log'), { decide: (state, command) => decide(state, { ...command, nowMs: command.nowMs + 1 }) })
    expect(later.mismatches).toBe(later.decisions)
    expect(later.lastMismatches[0]?.difference).toContain('atMs')
    const restarted = await startWorld({ seed: 17, dir: world.dir, clock: world.clock, venue: world.venue })
    expect(statuses(restarted.gateway)).toEqual(before)
    expect(restarted.gateway.engine.state.lastLsn).toBeGreaterThanOrEqual(lastLsn)
    expect(restarted.errors).toEqual([])
    await restarted.gateway.stop()
    removeDir(world.dir)
  })
})

/** A leader world writing command records, and a standby gateway following it over loopback. */
async function leaderAndStandby(seed: number): Promise<{ world: World; standby: Gateway; stop: () => Promise<void>; errors: string[] }> {
  const world = await startWorld({ seed })
  world.gateway.engine.commandRecords = true
  // Small envelopes: a decision's records are often split over two envelopes, which the comparison must bridge.
  const server = serveReplication(() => world.gateway.engine.wal, haHttp({ chunkBytesMax: 700 }))
  const { standby, dataDir: standbyDir, errors } = await startStandbyOf(world)
  const pulling = replicator(standby.engine.wal, () => server.url)
  pulling.start()
  const stop = async (): Promise<void> => {
    await pulling.stop()
    server.stop()
    await standby.stop()
    await world.gateway.stop()
    removeDir(standbyDir)
    removeDir(world.dir)
  }
  return { world, standby, stop, errors }
}

async function tradeAndCatchUp(world: World, standby: Gateway): Promise<void> {
  for (let index = 0; index < 6; index++) {
    const [principal, account] = index % 2 === 0 ? [traderA, 'acct-a'] : [traderB, 'acct-b']
    await world.gateway.place(principal, { account, symbol: 'BTC-USD', side: index % 3 === 0 ? 'sell' : 'buy', type: 'limit', qty: '0.1', price: index % 3 === 0 ? '59000' : '61000', client_order_id: `shadow-${index}` }, null)
  }
  await run(world, 2_000)
  await world.gateway.cancel(traderA, 'shadow-missing').catch(() => {})
  await run(world, 500)
  const leaderWal = world.gateway.engine.wal
  await waitFor(() => standby.engine.wal.lastLsn === leaderWal.lastLsn && standby.engine.state.lastLsn === world.gateway.engine.state.lastLsn, 5_000, 'standby catch-up')
}

describe('standby shadow mode', () => {
  test('on a normal run the standby decides every leader command again and every decision matches; nothing is sent', async () => {
    const { world, standby, stop, errors } = await leaderAndStandby(11)
    await tradeAndCatchUp(world, standby)
    const stats = standby.engine.shadow?.stats
    expect(stats).toBeDefined()
    const commandRecords = [...world.gateway.engine.wal.read(world.gateway.engine.wal.firstLsn)].filter((frame) => isCommandRecord(frame.type)).length
    expect(commandRecords).toBeGreaterThan(10)
    expect(stats?.decisions).toBe(commandRecords)
    expect(stats?.mismatches).toBe(0)
    expect(stats?.matches).toBe(commandRecords)
    expect(stats?.lastMismatches).toEqual([])
    // /metrics: counts by outcome, no order id anywhere in the labels.
    const metrics = new GatewayMetrics()
    metrics.attach(standby, { inFlight: () => 0 })
    const exposition = metrics.render()
    metrics.detach()
    expect(exposition).toContain('# TYPE egress_ha_shadow_decisions_total counter\n')
    expect(exposition).toContain(`egress_ha_shadow_decisions_total{outcome="match"} ${commandRecords}`)
    expect(exposition).toContain('egress_ha_shadow_decisions_total{outcome="mismatch"} 0')
    expect(world.gateway.engine.commandRecordFailures).toBe(0)
    // Bootstrap ran before the leader wrote command records: its events are counted as uncovered, not compared.
    expect(stats?.eventsWithoutCommand).toBeGreaterThan(0)
    // The leader's events are authoritative and the standby sends nothing.
    expect(toHex(standby.engine.wal.chainHead)).toBe(toHex(world.gateway.engine.wal.chainHead))
    const statuses = (gateway: Gateway): string[] => [...gateway.engine.state.orders.values()].map((order) => `${order.orderId}:${order.status}`).sort()
    expect(statuses(standby)).toEqual(statuses(world.gateway))
    expect(standby.executor.stats.sends).toBe(0)
    expect(errors).toEqual([])
    expect(world.errors).toEqual([])
    await stop()
  })

  test('a standby whose kernel input differs (a lower notional cap in its state) counts the differing decisions as mismatches', async () => {
    const { world, standby, stop, errors } = await leaderAndStandby(11)
    await waitFor(() => standby.engine.state.policies.has('acct-a'), 5_000, 'standby has the config')
    const policy = standby.engine.state.policies.get('acct-a')
    if (policy === undefined) throw new Error('no policy for acct-a')
    policy.maxOrderNotional = 1n
    await tradeAndCatchUp(world, standby)
    const stats = standby.engine.shadow?.stats
    const placeMismatches = stats?.lastMismatches.filter((mismatch) => mismatch.kind === 'place') ?? []
    // The three acct-a orders: accepted by the leader, rejected by the standby's cap.
    expect(placeMismatches).toHaveLength(3)
    expect(placeMismatches[0]?.difference).toMatch(/^event 0: type 0x[0-9a-f]+ v\d+ on the standby, 0x[0-9a-f]+ v\d+ on the leader$/)
    expect(stats?.mismatches).toBeGreaterThanOrEqual(3)
    expect(stats?.matches).toBeGreaterThan(0)
    expect(stats?.decisions).toBe((stats?.matches ?? 0) + (stats?.mismatches ?? 0))
    // The leader's events still win: the standby's orders are the leader's.
    const statuses = (gateway: Gateway): string[] => [...gateway.engine.state.orders.values()].map((order) => `${order.orderId}:${order.status}`).sort()
    expect(statuses(standby)).toEqual(statuses(world.gateway))
    expect(errors).toEqual([])
    await stop()
  })
})

describe("a flatten's build in its command record", () => {
  test("is kept, and an older leader's record without one still decodes, without it (the kernel then records an empty build, as that leader did)", () => {
    const flatten: KernelCommand = {
      kind: 'flatten',
      nowMs: 1_767_225_600_123,
      principal: { id: 'olga', roles: ['ops'], accounts: [], liveAllowed: false },
      accountId: 'acct-a',
      flattenId: 'f-1',
      markets: { 'sim:BTC-USD': { referencePrice: 6_100_000_000_000n, observedAtMs: 1_767_225_600_000, previousPrice: null } },
      buildCommit: 'abc123',
    }
    expect(decodeCommandRecord(encodeCommandRecord(flatten, 2)).command).toEqual(flatten)
    // What a leader of the build before wrote: the same command without the member.
    const { buildCommit: _buildCommit, ...older } = flatten
    const olderRecord = { type: KERNEL_COMMAND.type, version: KERNEL_COMMAND.version, payload: encoder.encode(JSON.stringify({ command: { ...older, markets: { 'sim:BTC-USD': { referencePrice: { $bigint: '6100000000000' }, observedAtMs: 1_767_225_600_000, previousPrice: null } } }, eventCount: 2 })) }
    const decoded = decodeCommandRecord(olderRecord).command
    expect(decoded).toEqual(older)
    expect('buildCommit' in decoded).toBe(false)
  })
})
