/**
 * The service part of the document: health probes, metrics and this document (routes/health.ts, metrics-route.ts,
 * app.ts). No token: load balancers and scrapers call them.
 */

import { HA_STATUS } from './ha-status-schema.ts'
import { HEALTH, type LiveBody } from './health-schema.ts'
import { answerComponents, errorResponse, jsonAnswer, jsonContent, operation, record, ref, type DocumentPart, type SchemaFields } from './shared.ts'

const DRAINING = errorResponse('The gateway is draining (shutting down)')

export function servicePart(): DocumentPart {
  return {
    schemas: answerComponents({ Health: HEALTH, HaStatus: HA_STATUS }),
    paths: {
      '/health': {
        get: operation({
          tag: 'service',
          summary: 'Liveness, readiness, role, mode, log position, worker threads, audit self-check, and on an HA node its HA status (200 ready / 503 not). Anyone; answered while draining',
          security: 'none',
          errors: [],
          responses: {
            '200': jsonAnswer('Ready', ref('Health')),
            '503': {
              description:
                'Not ready, or draining: the same body, which says which part is missing. An HA node whose first gateway is not up yet (egress serve --role) answers UNAVAILABLE instead',
              content: jsonContent({ oneOf: [ref('Health'), ref('Error')] }),
            },
          },
        }),
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
        get: operation({
          tag: 'service',
          summary: 'Prometheus text format. Anyone',
          security: 'none',
          errors: [],
          responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } }, '503': DRAINING },
        }),
      },
      '/openapi.json': {
        get: operation({
          tag: 'service',
          summary: 'This document. Anyone',
          security: 'none',
          errors: [],
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } }, '503': DRAINING },
        }),
      },
    },
  }
}
