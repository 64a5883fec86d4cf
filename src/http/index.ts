/**
 * http/ — the gateway's HTTP face (Hono): order routes (the ACK boundary), operator controls, SSE streams over the
 * log, health, metrics, the OpenAPI document, backpressure, and bearer-token auth (auth/).
 */

export { createApp, API_VERSION } from './app.ts'
export { createHttpService, HTTP_DEFAULTS, type HttpService, type HttpServiceOptions } from './service.ts'
export { SERVER_IDLE_TIMEOUT_SEC, SERVER_REQUEST_BODY_BYTES_MAX } from './server-limits.ts'
export type { HttpLimits, Services } from './services.ts'
export { GatewayMetrics } from './gateway-metrics.ts'
export { LogIndex } from './log-index.ts'
export { SseHub, type StreamScope } from './sse/index.ts'
export { LoadShedder, TokenBucket } from './backpressure/index.ts'
export { openApiDocument } from './openapi/document.ts'
export type { HealthBody, LiveBody } from './openapi/health-schema.ts'
export { ApiError, createErrorHandler, notFound, reasonError, type ErrorBody } from './errors.ts'
