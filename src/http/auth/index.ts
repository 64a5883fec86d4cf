/**
 * http/auth/ — bearer-token authentication (jose) and role/account permissions.
 */

export { ROLES, principalFromClaims } from './principal.ts'
export type { Principal, Role } from './principal.ts'
export { canChangeMode, canHalt, canRead, canReadAudit, canReadEvery, canTrade } from './permissions.ts'
export { HS256, JWKS_ALGORITHMS, JWKS_STALE_RELOADS_DEFAULT, createVerifier, unauthenticated, verifierOptionsFromConfig } from './verifier.ts'
export type { RejectReason, Verifier, VerifierOptions } from './verifier.ts'
export { checkJwksFile, JwksError, JwksStaleError, openJwksFile } from './jwks.ts'
export type { JwksErrorCode, JwksFile, JwksFileOptions, JwksReloadFailure, JwksStatus } from './jwks.ts'
export { TokenCache } from './token-cache.ts'
export { refuseRevoked, tokenFactsOf } from './revocation-check.ts'
export type { RevocationSource, VerifiedToken } from './revocation-check.ts'
export { bearerTokenOf, principalOf, requireAuth, requireRole } from './middleware.ts'
export type { AuthEnv } from './middleware.ts'
export { mintHs256Token } from './mint.ts'
export type { MintOptions } from './mint.ts'
export { openScrapeTokenFile, SCRAPE_TOKEN_CHARS_MIN, SCRAPE_TOKEN_FIELD, SCRAPE_TOKEN_FILE_BYTES_MAX } from './scrape-token.ts'
export type { ScrapeToken, ScrapeTokenOptions } from './scrape-token.ts'
export { assertServiceReader, requireAnyToken, requireServiceReader, SERVICE_READER_ROLES, serviceRoutesAuthFromConfig } from './service-routes.ts'
export type { ServiceRoutesAuth } from './service-routes.ts'
