/**
 * An order's history from the log: every recorded event (`/events`, with LSNs) and the decision records that explain
 * why it was accepted or rejected and why each amend was (`/explain`). Both read the log itself through the log index,
 * so they show exactly what replay would see.
 */

import { Hono } from 'hono'
import type { DecisionRecord } from '../../domain/guards.ts'
import { principalOf, type AuthEnv } from '../auth/index.ts'
import type { Services } from '../services.ts'
import { apiJson } from '../views/json.ts'
import { findOrder } from './order-lookup.ts'
import { pathId } from './support.ts'

export function orderLogRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.get('/v1/orders/:id/events', (c) => {
    const found = findOrder(services, principalOf(c), pathId(c, 'id'))
    const events = services.logIndex.events(found.orderId).map(({ lsn, event }) => ({ lsn, ...(apiJson(event) as Record<string, unknown>) }))
    return c.json({ order_id: found.orderId, events })
  })
  app.get('/v1/orders/:id/explain', (c) => {
    const found = findOrder(services, principalOf(c), pathId(c, 'id'))
    const decisions = []
    for (const { lsn, event } of services.logIndex.events(found.orderId)) {
      if (event.type === 'order.accepted') decisions.push(decisionView(lsn, 'accepted', event.decision, { reason: null, guard: null }))
      if (event.type === 'order.rejected') decisions.push(decisionView(lsn, 'rejected', event.decision, { reason: event.reason, guard: event.guard }))
      if (event.type === 'order.amend_requested') decisions.push(decisionView(lsn, 'amend_accepted', event.decision, { reason: null, guard: null }))
      if (event.type === 'order.amend_rejected') decisions.push(decisionView(lsn, 'amend_rejected', event.decision, { reason: event.reason, guard: event.guard }))
    }
    return c.json({ order_id: found.orderId, account: found.accountId, decisions })
  })
  return app
}

function decisionView(lsn: number, outcome: string, decision: DecisionRecord, failed: { reason: string | null; guard: string | null }): Record<string, unknown> {
  return {
    lsn,
    outcome,
    reason: failed.reason,
    failed_guard: failed.guard,
    principal: decision.principalId,
    roles: decision.roles,
    config_digest: decision.configDigest,
    build_commit: decision.buildCommit,
    decided_at_ms: decision.nowMs,
    guards: decision.guards.map((guard) => ({ guard: guard.guard, outcome: guard.outcome, reason: guard.reason ?? null, inputs: apiJson(guard.inputs) })),
  }
}
