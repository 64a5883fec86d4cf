/**
 * The HTTP service's bounds when its options name none: request body size, page sizes, SSE subscribers, token buckets.
 * A module of its own (no imports), so the OpenAPI document can state them without importing the service.
 */

export const HTTP_DEFAULTS = {
  bodyBytesMax: 16 * 1024,
  listPageMax: 1_000,
  listExaminedMax: 10_000,
  /** Well under serve's idle timeout (30 s), which would close the connection with no answer at all. */
  readDurableWaitMsMax: 5_000,
  sseSubscribersMax: 1_024,
  sseSubscribersPerPrincipalMax: 64,
  /** Without a JWKS file: the span SSE streams' first authority checks are spread over (the default auth.jwksReloadMs). */
  sseAuthorityCheckWindowMs: 30_000,
  bucketsMax: 10_000,
} as const
