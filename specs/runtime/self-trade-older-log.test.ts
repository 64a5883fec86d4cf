/**
 * A log written before self-trade prevention (its `kernel.configured` at payload version 8, policies without
 * selfTrade) was decided with no such check: an account's sell that crossed its own open buy was accepted. This build
 * decides such a log as it was decided — replay rebuilds it, and re-deciding its commands (redecide, a standby) gives
 * the same events, not a SELF_TRADE_PREVENTED the older build never wrote. Started on that log with its config, this
 * build records the config again with the policies' selfTrade (default `reject`), and from there on refuses a crossing.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import { recordLayoutOf } from '../../src/domain/events/binary-layout.ts'
import { schemaAtVersion } from '../../src/domain/events/binary-records.ts'
import { decodeEvent, EVENT_CODES, type EncodedEvent } from '../../src/domain/events/index.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { rebuildState } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly, Wal, type RecordInput } from '../../wal/index.ts'
import { writeRecordInterpreted } from '../domain/events/interpreted-writer.ts'
import { removeDir, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'
import { withoutSelfTrade } from './snapshot/support.ts'

const worlds = worldsStoppedAfterEach()
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

function body(id: string, side: 'buy' | 'sell', price: bigint): Record<string, unknown> {
  return { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty: '0.001', price: formatDecimal(price), tif: 'GTC', client_order_id: id }
}

/** The records of `logDir` with every kernel.configured as the build before wrote it: version 8's layout. */
function asOlderBuild(logDir: string): RecordInput[] {
  return Array.from(openReadOnly(logDir).read(1), (frame) => {
    const record: EncodedEvent = { type: frame.type, version: frame.version, payload: frame.payload.slice() }
    if (record.type !== EVENT_CODES['kernel.configured']) return record
    const { type, ...written } = decodeEvent(record)
    return { type: record.type, version: 8, payload: writeRecordInterpreted(recordLayoutOf(schemaAtVersion(type, 8), 'compact'), written, type) }
  })
}

test('a log configured before self-trade prevention replays and re-decides its crossing pair as accepted; this build checks from its own config on', async () => {
  const world = await startWorld({ seed: 12, commandRecords: true, configure: withoutSelfTrade })
  worlds.push(world)
  const { gateway, venue } = world
  const reference = venue.referencePrice('BTC-USD')?.price
  if (reference === undefined) throw new Error('the sim quotes BTC-USD')
  const bid = reference - parseDecimal('200')
  const buy = await gateway.place(traderA, body('rest-buy', 'buy', bid), null)
  expect(buy.reply.kind).toBe('accepted')
  // The sell at the buy's own price crosses it: the older build had no check and accepted it.
  const sell = await gateway.place(traderA, body('cross-sell', 'sell', bid), null)
  expect(sell.reply.kind).toBe('accepted')
  await run(world, 300)
  expect(world.errors).toEqual([])
  await gateway.engine.settled()
  const logDir = join(world.dir, 'log')

  // The same log as the older build wrote it: its kernel.configured at version 8, whose policies have no selfTrade.
  const older = mkdtempSync(join(tmpdir(), 'egress-stp-older-'))
  dirs.push(older)
  const records = asOlderBuild(logDir)
  expect(records.filter((record) => record.type === EVENT_CODES['kernel.configured']).map((record) => record.version)).toEqual([8])
  const wal = Wal.open(join(older, 'log'), { durability: 'none', preallocateBytes: 0 })
  await wal.append(records)
  await wal.close()
  const rebuilt = rebuildState(openReadOnly(join(older, 'log'))).state
  expect(stateDigest(rebuilt)).toBe(stateDigest(gateway.engine.state))
  for (const policy of rebuilt.policies.values()) expect('selfTrade' in policy).toBe(false)
  const report = redecideLog(join(older, 'log'))
  expect(report.decisions).toBeGreaterThan(1)
  expect([report.mismatches, report.lastMismatches]).toEqual([0, []])

  // This build on that log, with the same config file (its policies now say selfTrade "reject"): the config is
  // recorded again, and a crossing is refused from there on.
  await gateway.stop()
  const again = await startWorld({ seed: 12, dir: world.dir, clock: world.clock, venue, commandRecords: true })
  worlds.push(again)
  const configured = Array.from(openReadOnly(logDir).read(1), (frame) => domainEventOf(frame)).filter((event) => event?.type === 'kernel.configured')
  expect(configured.length).toBe(2)
  expect(again.gateway.engine.state.policies.get('acct-a')?.selfTrade).toBe('reject')
  const open = [...again.gateway.engine.state.orders.values()].find((order) => order.accountId === 'acct-a' && order.side === 'buy' && order.status === 'AckedOpen')
  if (open === undefined) throw new Error('an open buy of acct-a to cross')
  const crossing = await again.gateway.place(traderA, body('cross-again', 'sell', open.price ?? bid), null)
  expect(crossing.reply).toMatchObject({ kind: 'rejected', reason: 'SELF_TRADE_PREVENTED' })
  await again.gateway.engine.settled()
  const whole = redecideLog(logDir)
  expect([whole.mismatches, whole.lastMismatches]).toEqual([0, []])
})
