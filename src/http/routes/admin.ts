/**
 * Operator controls: the mode (admin only) and the kill switches HALT / CANCEL_ONLY / RESUME (ops or admin), and
 * per-account flatten (the account's traders, or ops/admin). Each is a recorded decision in the log; the answer
 * comes once it is durable.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { formatDecimal } from '../../domain/decimal.ts'
import { MODES, switchFor, type KillSwitchAction } from '../../domain/modes.ts'
import { flattenUncovered } from '../../kernel/index.ts'
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
  // The flatten id makes a retried flatten idempotent (its closing orders derive their ids from it).
  const flattenId = idempotencyKeyOf(c) ?? crypto.randomUUID()
  requireReady(services)
  const kernelCaller = kernelPrincipal(principal)
  // A flatten that cancels or closes something is a kill switch and is never shed. One with nothing left to do still
  // writes its own record, so it is charged to the account's (and a bot's) rate like a new order, and past it refused
  // with 429: a loop of them wrote to the log as fast as the caller could send. Asked and decided in the same tick
  // (nothing awaits in between), so the order it is judged by is the one the kernel then decides.
  const idle = !services.gateway.flattenActs(kernelCaller, accountId, flattenId)
  // Holdings the flatten cannot close (no configured instrument trades them: flatten-uncovered.ts), read in the same
  // tick: said in the answer, or the caller took the account for flat.
  const notClosed = flattenUncovered(services.gateway.engine.state, accountId).map(({ asset, qty }) => ({ asset, qty: formatDecimal(qty), reason: 'INSTRUMENT_UNKNOWN' }))
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
  if (result.reply.kind === 'refused') throw reasonError(result.reply.reason, { details: { detail: result.reply.detail } })
  return c.json({ account: accountId, flatten_id: flattenId, lsn: result.lsn, not_closed: notClosed }, 202)
}
