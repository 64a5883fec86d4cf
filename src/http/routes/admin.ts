/**
 * Operator controls: the mode (admin only) and the kill switches HALT / CANCEL_ONLY / RESUME (ops or admin), the same
 * three for one account's own switch (ops or admin; kernel account-switch.ts), and per-account flatten (the
 * account's traders, or ops/admin). Each is a recorded decision in the log; the answer
 * comes once it is durable.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { formatDecimal, type Units } from '../../domain/decimal.ts'
import { MODES, switchFor, type KillSwitchAction } from '../../domain/modes.ts'
import { flattenUncovered, type FlattenNotClosed } from '../../kernel/index.ts'
import { canChangeMode, canHalt, canTrade, principalOf, requireRole, type AuthEnv } from '../auth/index.ts'
import { readJson } from '../body.ts'
import { ApiError, parseOrThrow, reasonError } from '../errors.ts'
import { kernelPrincipal } from '../principal.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { requestTrace } from '../trace.ts'
import { adminSnapshotRoutes } from './admin-snapshot.ts'
import { admitFor, idempotencyKeyOf, pathId, refusedUndone, requireReady, runCommand, shedError } from './support.ts'

const NOTE = v.exactOptional(v.pipe(v.string(), v.maxLength(256, 'expected at most 256 characters')), '')

export const MODE_BODY_SCHEMA = v.strictObject({
  mode: v.picklist(MODES, `expected one of ${MODES.join(', ')}`),
  note: NOTE,
})

export const SWITCH_BODY_SCHEMA = v.strictObject({ note: NOTE })

/** Flatten takes no options: an empty body or `{}`; anything else is refused rather than ignored. */
export const FLATTEN_BODY_SCHEMA = v.strictObject({})

const SWITCHES: Record<string, KillSwitchAction> = { halt: 'HALT', 'cancel-only': 'CANCEL_ONLY', resume: 'RESUME' }

export function adminRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.post('/v1/admin/mode', requireRole('admin'), async (c) => {
    const principal = principalOf(c)
    if (!canChangeMode(principal)) throw new ApiError('FORBIDDEN', 'changing mode needs the admin role')
    queryOf(c, NO_QUERY)
    const body = parseOrThrow(MODE_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax }))
    requireReady(services)
    const result = await runCommand(c, () => services.gateway.setMode(kernelPrincipal(principal), body.mode, body.note))
    if (result.reply.kind === 'refused') throw reasonError(result.reply.reason, { details: { detail: result.reply.detail } })
    // The mode this decision left (at its LSN): the state may already hold a later request's.
    return c.json({ mode: body.mode, lsn: result.lsn })
  })
  for (const [path, action] of Object.entries(SWITCHES)) {
    app.post(`/v1/admin/${path}`, requireRole('ops', 'admin'), (c) => killSwitch(c, services, action))
  }
  app.post('/v1/accounts/:id/flatten', (c) => flatten(c, services))
  // One account's own switch: the gateway's three paths under the account's.
  for (const [path, action] of Object.entries(SWITCHES)) {
    app.post(`/v1/accounts/:id/${path}`, requireRole('ops', 'admin'), (c) => accountSwitch(c, services, action))
  }
  app.route('/', adminSnapshotRoutes(services))
  return app
}

async function killSwitch(c: Context<AuthEnv>, services: Services, action: KillSwitchAction): Promise<Response> {
  const principal = principalOf(c)
  if (!canHalt(principal)) throw new ApiError('FORBIDDEN', 'kill switches need the ops or admin role')
  queryOf(c, NO_QUERY)
  const body = parseOrThrow(SWITCH_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax, emptyAsObject: true }))
  requireReady(services)
  const result = await runCommand(c, () => services.gateway.killSwitch(kernelPrincipal(principal), action, body.note))
  if (result.reply.kind === 'refused') throw reasonError(result.reply.reason, { details: { detail: result.reply.detail } })
  // The switch this decision left (at its LSN): the state may already hold a later request's.
  return c.json({ action, trading_switch: switchFor(action), lsn: result.lsn })
}

/**
 * One account's own switch by hand (kernel account-switch.ts). HALT or CANCEL_ONLY stops it, or moves it from the
 * other one: HALT lets a flatten's closes the account's CANCEL_ONLY held go out while its bot stays stopped. Asked
 * again with the switch in force it answers lsn null once nothing of the account's is left waiting to end. RESUME
 * lifts it; an account not stopped answers lsn null, and nothing is written. Reads no Idempotency-Key, as the
 * gateway's switches: a repeat is decided again on the state as it is then.
 */
async function accountSwitch(c: Context<AuthEnv>, services: Services, action: KillSwitchAction): Promise<Response> {
  const principal = principalOf(c)
  if (!canHalt(principal)) throw new ApiError('FORBIDDEN', 'kill switches need the ops or admin role')
  const accountId = pathId(c, 'id')
  queryOf(c, NO_QUERY)
  const body = parseOrThrow(SWITCH_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax, emptyAsObject: true }))
  requireKnownAccount(services, accountId)
  requireReady(services)
  const caller = kernelPrincipal(principal)
  const { gateway } = services
  const result = await runCommand(c, () => gateway.accountSwitch(caller, accountId, action, body.note))
  if (result.reply.kind === 'refused') throw reasonError(result.reply.reason, { details: { detail: result.reply.detail } })
  // The account's switch this decision left (at its LSN): the state may already hold a later request's.
  return c.json({ account: accountId, action, account_switch: switchFor(action), lsn: result.lsn })
}

/** 404 for an account the gateway knows nothing of: no switch, no funds, no policy. */
function requireKnownAccount(services: Services, accountId: string): void {
  const state = services.gateway.engine.state
  if (!state.accountSwitches.has(accountId) && !state.accounts.has(accountId) && !state.policies.has(accountId)) {
    throw new ApiError('NOT_FOUND', `no account ${accountId}`, { details: { account: accountId } })
  }
}

async function flatten(c: Context<AuthEnv>, services: Services): Promise<Response> {
  const trace = requestTrace(c)
  const principal = principalOf(c)
  const accountId = pathId(c, 'id')
  if (!canTrade(principal, accountId) && !canHalt(principal)) {
    throw new ApiError('FORBIDDEN', `not allowed to flatten account ${accountId}`, { details: { account: accountId } })
  }
  queryOf(c, NO_QUERY)
  parseOrThrow(FLATTEN_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax, emptyAsObject: true }))
  if (!services.gateway.engine.state.accounts.has(accountId) && !services.gateway.engine.state.policies.has(accountId)) {
    throw new ApiError('NOT_FOUND', `no account ${accountId}`, { details: { account: accountId } })
  }
  // The flatten id names the flatten: a repeat of it (the same Idempotency-Key, within the key window) decides nothing
  // and answers the first answer (kernel flatten-held.ts). Without a key each request is a new flatten.
  const flattenId = idempotencyKeyOf(c) ?? crypto.randomUUID()
  requireReady(services)
  const kernelCaller = kernelPrincipal(principal)
  // A flatten that cancels or closes something is a kill switch and is never shed. One with nothing left to do still
  // writes its own record, so it is charged to the account's (and a bot's) rate like a new order, and past it refused
  // with 429: a loop of them wrote to the log as fast as the caller could send. A repeat writes nothing and is answered
  // as the first was, so it is not charged either (as an order's repeat: place-admission.ts): its 202 stays a 202.
  // Asked and decided in the same tick (nothing awaits in between), so the order it is judged by is the one the kernel
  // then decides.
  const idle = !services.gateway.flattenActs(kernelCaller, accountId, flattenId) && !services.gateway.flattenHeld(accountId, flattenId)
  // Holdings the flatten cannot close (no configured instrument trades them: flatten-uncovered.ts), read in the same
  // tick, as the kernel reads them into the flatten's record: said in the answer, or the caller took the account for flat.
  // The answer says what the record holds (below); this is for a flatten whose answer is no longer held by then.
  const uncovered = flattenUncovered(services.gateway.engine.state, accountId)
  const admission = idle ? admitFor(services, accountId, principal) : null
  if (admission !== null && !admission.ok) {
    services.metrics.countShed('flatten', admission.scope)
    throw shedError('flattens with nothing to cancel or close', admission)
  }
  let result
  try {
    result = await runCommand(c, () => services.gateway.flatten(kernelCaller, accountId, flattenId, { traceparent: trace.traceparent }))
  } catch (error) {
    // Refused before it was written (the log full or closed, the lease lost): its token goes back, as an order's does.
    if (admission?.ok === true && refusedUndone(error)) admission.refund()
    throw error
  } finally {
    if (admission?.ok === true) admission.release()
  }
  if (admission?.ok === true && result.lsn === null) admission.refund()
  const reply = result.reply
  if (reply.kind === 'refused') throw reasonError(reply.reason, { details: { detail: reply.detail } })
  // A repeat: the first answer, as the kernel holds it (answered once the log holds it: engine answerWhenQueuedDurable).
  if (reply.kind === 'flatten_repeat') return flattenAnswer(c, accountId, flattenId, reply.lsn, reply.notClosed)
  // The first answer as its record holds it (the kernel's flatten-held.ts), so a repeat answers the same: what the closes
  // left of a holding (flatten-close-sizes.ts) is known only once the last part has sized them, after its cancels.
  const held = services.gateway.engine.state.flattens.get(accountId)?.get(flattenId)
  return flattenAnswer(c, accountId, flattenId, result.lsn, held !== undefined && held.lsn === result.lsn ? held.notClosed : uncovered)
}

/** The flatten's 202: the same for its first answer and its repeats. A holding without a reason is one no instrument trades. */
function flattenAnswer(c: Context<AuthEnv>, accountId: string, flattenId: string, lsn: number | null, notClosed: readonly FlattenNotClosed[]): Response {
  const named = notClosed.map(({ asset, qty, reason }) => ({ asset, qty: formatDecimal(qty), reason: reason ?? 'INSTRUMENT_UNKNOWN' }))
  return c.json({ account: accountId, flatten_id: flattenId, lsn, not_closed: named }, 202)
}
