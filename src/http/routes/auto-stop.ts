/**
 * Automatic stop for operators (config `autoStop`, src/runtime/auto-stop.ts): `GET /v1/auto_stop` (ops, admin, auditor)
 * reads the trading switch, whether the breakers are armed, each configured breaker's action, threshold and figures
 * now, its trips and the last trip this process made; /metrics counts trips per breaker
 * (egress_auto_stop_trips_total{breaker}, no order or account labels). A trip's evidence is its `switch.changed` record
 * (principal egress-auto-stop, the note naming the breaker and its figures), or for an order_rate trip with scope
 * account its `account.switch_changed` record: this read shows the live figures and the accounts stopped now, each with
 * who stopped it and the config digest and build its record says it was decided under.
 */

import { Hono } from 'hono'
import { canReadEvery, principalOf, requireRole, type AuthEnv } from '../auth/index.ts'
import { ApiError } from '../errors.ts'
import type { AccountSwitch, KernelState } from '../../kernel/index.ts'
import type { LogIndex, LoggedEvent } from '../log-index.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'

export function autoStopRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  registerAutoStopMetrics(services)
  app.get('/v1/auto_stop', requireRole('ops', 'admin', 'auditor'), (c) => {
    if (!canReadEvery(principalOf(c))) throw new ApiError('FORBIDDEN', 'auto-stop needs the ops, admin or auditor role')
    queryOf(c, NO_QUERY)
    return c.json(autoStopJson(services))
  })
  return app
}

/**
 * `GET /v1/auto_stop`'s body. Without config `autoStop` (or on a standby, which never runs it): `configured` false or
 * `running` false, nothing armed.
 */
export function autoStopJson(services: Services): Record<string, unknown> {
  const { gateway } = services
  const autoStop = gateway.autoStop
  const status = autoStop === null ? { running: false, armed: false, armed_at_ms: null, breakers: [], last_trip: null } : autoStop.status()
  const stopped = stoppedAccounts(gateway.engine.state.accountSwitches, services.logIndex)
  return { configured: autoStop !== null, trading_switch: gateway.engine.state.tradingSwitch, ...status, stopped_accounts: stopped }
}

/**
 * The accounts stopped on their own (an order_rate trip with scope account, or an operator; src/kernel/account-switch.ts), by account
 * id, as the log holds them: a standby's and a restarted leader's read shows them too. Bounded by the configured accounts.
 * Who stopped each, when and why are the kernel's (its switch entry); the config digest and build it was decided under
 * are its record's (switchRecordView).
 */
function stoppedAccounts(switches: KernelState['accountSwitches'], logIndex: LogIndex): Record<string, unknown>[] {
  return [...switches]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([account, entry]) => ({ account, account_switch: entry.switch, principal: entry.principalId, at_ms: entry.atMs, note: entry.note, ...switchRecordView(entry, logIndex.accountSwitchRecord(account)) }))
}

/**
 * The `account.switch_changed` record that stopped the account, as it carries them: its LSN, and the config digest and
 * build it was decided under (payload version 13: kernel/attribution.ts). All null when the record is not at hand (the
 * log no longer holds it, or the index has not read it yet after a restart) or is not the entry's (it must be the switch
 * in force, decided when and by whom the entry says); digest and build null, the LSN not, for a record an older build
 * wrote. Never the running config's or build's: that would be a guess.
 */
function switchRecordView(entry: AccountSwitch, logged: LoggedEvent | null): { record_lsn: number | null; config_digest: string | null; build_commit: string | null } {
  const event = logged?.event
  if (logged === null || event?.type !== 'account.switch_changed' || event.switch !== entry.switch || event.atMs !== entry.atMs || event.principalId !== entry.principalId) {
    return { record_lsn: null, config_digest: null, build_commit: null }
  }
  return { record_lsn: logged.lsn, config_digest: event.configDigest ?? null, build_commit: event.buildCommit ?? null }
}

/** egress_auto_stop_trips_total{breaker}: the trips this process's breakers made (a counter per configured breaker). */
function registerAutoStopMetrics(services: Services): void {
  const registry = services.metrics.registry
  registry.once('auto-stop', () => {
    const trips = registry.counter({
      name: 'egress_auto_stop_trips_total',
      help: 'Times an auto-stop breaker engaged the kill switch (config autoStop): the switch.changed record by egress-auto-stop says why.',
      labelNames: ['breaker'],
    })
    registry.beforeRender(() => {
      const autoStop = services.gateway.autoStop
      if (autoStop === null) return
      for (const breaker of autoStop.breakers) trips.advanceTo(autoStop.trips(breaker.name), { breaker: breaker.name })
    })
  })
}
