/**
 * §9 (audit records carry the principal, the commit and the config digest): every operator and control decision the
 * running gateway records — a client's cancel (of an order resting at the venue, and of one never sent), a TTL's end,
 * kill switches (an account's own too, payload version 13), a mode change, a flatten, venue overrides proposed, approved and revoked, token revocations, a start's
 * funding — names who decided it, the build (GatewayOptions.buildCommit) and the kernel's config digest
 * (kernel/attribution.ts). Before, these records named the principal at most. The standby's re-decision from command
 * records (which now carry the build) and replay-verify accept them.
 */

import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import type { Principal } from '../../src/domain/accounts.ts'
import type { DomainEvent, EventType } from '../../src/domain/events/index.ts'
import { decodeEvent } from '../../src/domain/events/index.ts'
import { decideSwitchInParts } from '../../src/runtime/decision-parts.ts'
import { redecideLog } from '../../src/runtime/ha/index.ts'
import type { CommandResult } from '../../src/runtime/index.ts'
import { replayVerify } from '../../src/runtime/snapshot/index.ts'
import { drive, opsUser, removeDir, run, startWorld, T0, traderA } from './harness.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})
const ada: Principal = { id: 'ada', roles: ['admin'], accounts: [], liveAllowed: false }
const bea: Principal = { id: 'bea', roles: ['admin'], accounts: [], liveAllowed: false }
/** The order id a place answered (accepted). */
function idOf(placed: CommandResult): string {
  if (placed.reply.kind !== 'accepted') throw new Error(`expected an accepted place, got ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}
const BUY = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }

/** The record types this spec makes the gateway write, each of which must carry all three members. */
const ATTRIBUTED: readonly EventType[] = [
  'order.cancel_requested', 'order.canceled', 'switch.changed', 'mode.changed', 'account.flatten_requested', 'account.funded',
  'venue.override_proposed', 'venue.override_approved', 'venue.override_revoked', 'auth.token_revoked', 'auth.subject_revoked',
  'account.switch_changed',
]

test('the records of cancels, TTL ends, switches, mode, flatten, overrides, revocations and fundings carry principal, build and config digest', async () => {
  const world = await startWorld({ seed: 81, commandRecords: true, venueOptions: { priceStepTicksMax: 0 } })
  dirs.push(world.dir)
  const gateway = world.gateway
  // A cancel of an order resting at the venue (order.cancel_requested) and of one never sent (order.canceled, local).
  const resting = idOf(await gateway.place(traderA, { ...BUY, client_order_id: 'rest-1' }, null))
  await run(world, 200)
  expect(gateway.engine.state.orders.get(resting)?.status).toBe('AckedOpen')
  expect((await gateway.cancel(traderA, resting)).reply).toEqual({ kind: 'done' })
  gateway.executor.stop()
  const unsent = idOf(await gateway.place(traderA, { ...BUY, client_order_id: 'unsent-1' }, null))
  expect((await gateway.cancel(opsUser, unsent)).reply).toEqual({ kind: 'done' })
  // A queued order whose time-to-live passes (egress:ttl), then the executor again.
  const expiring = idOf(await gateway.place(traderA, { ...BUY, client_order_id: 'ttl-1', ttl_ms: 100 }, null))
  await run(world, 300)
  expect(gateway.engine.state.orders.get(expiring)?.status).toBe('Canceled')
  gateway.executor.start()
  await run(world, 100)
  // Operators' decisions.
  expect((await drive(world, gateway.killSwitch(opsUser, 'CANCEL_ONLY', 'drill'))).reply).toEqual({ kind: 'done' })
  expect((await drive(world, gateway.killSwitch(opsUser, 'RESUME', 'drill over'))).reply).toEqual({ kind: 'done' })
  // An account's own switch (as the auto-stop's order_rate trip with scope account asks it), and its RESUME.
  const accountStop = decideSwitchInParts(gateway.engine, world.clock, { principal: opsUser, action: 'HALT', note: 'drill', accountId: 'acct-b' })
  expect((await drive(world, accountStop)).reply).toEqual({ kind: 'done' })
  expect((await drive(world, gateway.accountSwitch(opsUser, 'acct-b', 'RESUME', 'drill over'))).reply).toEqual({ kind: 'done' })
  expect((await drive(world, gateway.setMode(ada, 'shadow', 'audit drill'))).reply).toEqual({ kind: 'done' })
  expect((await drive(world, gateway.flatten(opsUser, 'acct-a', 'flat-1'))).reply.kind).not.toBe('refused')
  await gateway.venueOverride({ op: 'propose', principal: ada, venue: 'sim', reason: 'drill', durationMs: 60_000, scope: 'all' })
  await gateway.venueOverride({ op: 'approve', principal: bea, venue: 'sim', overrideId: 'sim#1' })
  await gateway.venueOverride({ op: 'revoke', principal: ada, venue: 'sim', note: 'drill over' })
  await gateway.revokeToken({ target: 'token', principal: ada, jti: 'leaked-1', untilMs: T0 + 86_400_000, note: 'chat' })
  await gateway.revokeToken({ target: 'subject', principal: ada, sub: 'bot-9', issuedBeforeMs: T0, untilMs: T0 + 86_400_000, note: '' })
  await gateway.engine.settled()

  const events: DomainEvent[] = []
  for (const frame of gateway.engine.wal.read(1)) {
    try {
      events.push(decodeEvent({ type: frame.type, version: frame.version, payload: frame.payload }))
    } catch {
      // Not a kernel record (a command record, an audit record).
    }
  }
  const seen = new Set<EventType>()
  for (const event of events) {
    if (!ATTRIBUTED.includes(event.type)) continue
    // A venue's own cancel (source venue) is no decision of egress's and names no one.
    if (event.type === 'order.canceled' && event.source === 'venue') continue
    seen.add(event.type)
    expect({ type: event.type, ...pick(event) }).toEqual({ type: event.type, principalId: expect.any(String), configDigest: 'sim-config', buildCommit: 'test' })
  }
  expect([...seen].sort()).toEqual([...ATTRIBUTED].sort())
  const principals = (type: EventType) => events.filter((event) => event.type === type).map((event) => (event as { principalId?: string }).principalId)
  expect(principals('order.canceled')).toEqual(expect.arrayContaining(['olga', 'egress:ttl']))
  expect(principals('switch.changed')).toEqual(['olga', 'olga'])
  expect(principals('account.switch_changed')).toEqual(['olga', 'olga'])
  expect(principals('account.funded').every((id) => id === 'egress-bootstrap')).toBe(true)

  await gateway.stop()
  expect(world.errors).toEqual([])
  // The standby's re-decision of each command record (which names the build) writes the same records; replay agrees.
  expect(redecideLog(join(world.dir, 'log')).mismatches).toBe(0)
  expect(replayVerify(world.dir, { from: 'auto' }).problems).toEqual([])
}, 30_000)

function pick(event: DomainEvent): { principalId?: unknown; configDigest?: unknown; buildCommit?: unknown } {
  const { principalId, configDigest, buildCommit } = event as { principalId?: unknown; configDigest?: unknown; buildCommit?: unknown }
  return { principalId, configDigest, buildCommit }
}
