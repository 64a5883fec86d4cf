/**
 * The service part of the document: health probes, metrics and this document (routes/health.ts, metrics-route.ts,
 * app.ts). No token by default: load balancers and scrapers call them. With config auth.protectServiceRoutes
 * (auth/service-routes.ts) /metrics and /health's details take a service reader's token or the scrape token, this
 * document any token, and /health without one answers its summary (HealthSummary).
 */

import { HA_STATUS } from './ha-status-schema.ts'
import { HEALTH, HEALTH_SUMMARY, type LiveBody } from './health-schema.ts'
import { answerComponents, errorResponse, jsonAnswer, jsonContent, operation, record, ref, type DocumentPart, type Json, type SchemaFields } from './shared.ts'

const DRAINING = errorResponse('The gateway is draining (shutting down)')
const READER = 'an ops, auditor or admin token, or the scrape token (config auth.scrapeTokenFile)'

/** `protection`: the routes are protected (config auth.protectServiceRoutes), with or without a scrape token. */
export function servicePart(protection?: { scrapeToken: boolean }): DocumentPart {
  const guarded = protection !== undefined
  // Either scheme admits a service reader; `{}` in the list says a caller without a token is answered too (/health).
  const reader: Json[] = protection?.scrapeToken === true ? [{ bearer: [] }, { scrapeToken: [] }] : [{ bearer: [] }]
  const health = guarded ? { oneOf: [ref('Health'), ref('HealthSummary')] } : ref('Health')
  return {
    schemas: answerComponents({ Health: HEALTH, HaStatus: HA_STATUS, ...(guarded ? { HealthSummary: HEALTH_SUMMARY } : {}) }),
    paths: {
      '/health': {
        get: {
          ...operation({
            tag: 'service',
            summary: guarded
              ? `Liveness, readiness and role to anyone (HealthSummary); with ${READER}, also mode, log position, worker threads, audit self-check, venues, config digest and on an HA node its HA status (Health). 200 ready / 503 not; answered while draining`
              : 'Liveness, readiness, role, mode, log position, worker threads, audit self-check, and on an HA node its HA status (200 ready / 503 not). Anyone; answered while draining',
            security: 'none',
            errors: guarded ? ['401', '403'] : [],
            responses: {
              '200': jsonAnswer('Ready', health),
              '503': {
                description:
                  'Not ready, or draining: the same body, which says which part is missing. An HA node whose first gateway is not up yet (egress serve --role) answers UNAVAILABLE instead',
                content: jsonContent({ oneOf: [...(guarded ? [ref('Health'), ref('HealthSummary')] : [ref('Health')]), ref('Error')] }),
              },
            },
          }),
          ...(guarded ? { security: [{}, ...reader] } : {}),
        },
      },
      '/health/live': {
        get: operation({
          tag: 'service',
          summary: 'Bare liveness probe: the process answers. Anyone; answered while draining',
          security: 'none',
          errors: [],
          responses: { '200': jsonAnswer('{ live: true }', record({ live: { const: true } } satisfies SchemaFields<LiveBody>)) },
        }),
      },
      '/metrics': {
        get: {
          ...operation({
            tag: 'service',
            summary: guarded ? `Prometheus text format. Takes ${READER}` : 'Prometheus text format. Anyone',
            security: 'none',
            errors: guarded ? ['401', '403'] : [],
            responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } }, '503': DRAINING },
          }),
          ...(guarded ? { security: reader } : {}),
        },
      },
      '/openapi.json': {
        get: operation({
          tag: 'service',
          summary: guarded ? 'This document. Any valid token' : 'This document. Anyone',
          security: guarded ? 'bearer' : 'none',
          errors: guarded ? ['401'] : [],
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } }, '503': DRAINING },
        }),
      },
    },
  }
}
