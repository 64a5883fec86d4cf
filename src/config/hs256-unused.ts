/**
 * An HS256 secret configured (auth.hs256Secret, EGRESS_HS256_SECRET) where HS256 tokens are refused (auth.hs256Enabled
 * false: shadow mode by default): every HS256 token is then 401, which read as a bad secret. Said at start (serve's
 * warning line), not refused: one environment's variables may serve nodes of several modes.
 */

import type { Config } from './schema.ts'

/** The warning's text, or null when the secret is used or none is set. */
export function hs256SecretUnused(config: Pick<Config, 'mode' | 'auth'>): string | null {
  if (config.auth.hs256Enabled || config.auth.hs256Secret === undefined) return null
  const hint = config.mode === 'shadow' ? ' (set it to true to take them)' : ''
  return `auth.hs256Secret (or EGRESS_HS256_SECRET) is set, but HS256 tokens are refused in ${config.mode} mode: auth.hs256Enabled is false${hint}`
}
