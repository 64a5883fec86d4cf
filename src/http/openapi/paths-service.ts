/**
 * The service part of the document: health probes, metrics and this document (routes/health.ts, metrics-route.ts,
 * app.ts). No token: load balancers and scrapers call them.
 */

import { errorResponse, jsonAnswer, operation, record, type DocumentPart } from './shared.ts'

const DRAINING = errorResponse('The gateway is draining (shutting down)')

export function servicePart(): DocumentPart {
  return {
    schemas: {},
    paths: {
      '/health': {
        get: operation({
          tag: 'service',
          summary: 'Liveness, readiness, role, mode, log position, worker threads, audit self-check (200 ready / 503 not). Anyone; answered while draining',
          security: 'none',
          errors: [],
          responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready (the body says which part is missing)' } },
        }),
      },
      '/health/live': {
        get: operation({
          tag: 'service',
          summary: 'Bare liveness probe: the process answers. Anyone; answered while draining',
          security: 'none',
          errors: [],
          responses: { '200': jsonAnswer('{ live: true }', record({ live: { const: true } })) },
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
