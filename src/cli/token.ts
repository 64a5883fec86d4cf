/**
 * `egress token`: mints a local HS256 token for paper use with the secret the gateway uses (configured, or the one in
 * the data directory — generated there if this is the first start). The token alone is the last line on stdout, so
 * `TOKEN=$(egress token --sub me --account demo-1 --role trader)` works; everything else goes to stderr.
 */

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { decodeJwt } from 'jose'
import { CONFIG_PATH_ENV, ConfigError, hs256SecretPath, loadConfig, resolveHs256Secret, type Config } from '../config/index.ts'
import { mintHs256Token, principalFromClaims, ROLES, type Role } from '../http/auth/index.ts'
import { TOKEN_TTL_SEC_MAX_DEFAULT, TOKEN_TTL_SEC_MAX_LIMIT } from '../http/auth/mint.ts'
import { EXIT_OK, integerOption, parseOptions, UsageError, type CliIo, type Command } from './command.ts'
import { refuseForeignDataDir } from './foreign-data-dir.ts'

/** The default --ttl: an hour (or auth.tokenTtlSecMax, when that is shorter). */
const TTL_SEC_DEFAULT = 3600

export const tokenCommand: Command = {
  name: 'token',
  summary: 'mint a local HS256 token (a config with auth.hs256Enabled: paper by default, or shadow)',
  help: `Usage: egress token --sub NAME [--account ID]... [--role ROLE]... [--ttl SECONDS] [--config FILE]

Mints an HS256 token signed with the gateway's local secret (auth.hs256Secret, or <dataDir>/auth/hs256.secret,
created on first use). Use the same --config / EGRESS_DATA_DIR as the gateway. The token is the last line of stdout.
A data directory holding another program's files is refused as serve refuses it (DATA_DIR_FOREIGN, exit 1). A config
whose gateway refuses HS256 tokens (auth.hs256Enabled false: the default outside paper mode, or a JWKS-only config)
is refused too (exit 1, no token).

Options:
  --sub NAME        the token subject (a person or bot name): 1-128 printable ASCII characters, no spaces, not
                    egress or egress-... (the gateway's own names); required
  --account ID      an account the token may trade and read; repeatable; needed for trader and bot
  --role ROLE       one of ${ROLES.join(', ')}; repeatable; default trader
  --ttl SECONDS     lifetime; default ${TTL_SEC_DEFAULT}, or auth.tokenTtlSecMax if shorter; at most auth.tokenTtlSecMax
                    (${TOKEN_TTL_SEC_MAX_DEFAULT} = 24 h unless configured, up to ${TOKEN_TTL_SEC_MAX_LIMIT}): a longer one is refused
                    (exit 2). A leaked token is good until it expires or an admin revokes it
                    (POST /v1/admin/revocations with its jti, printed on stderr)
  --config FILE     the gateway config file (or set EGRESS_CONFIG)
  --help            show this help

Example:
  TOKEN=$(egress token --sub alice --account demo-1 --role trader)`,
  run: runToken,
}

async function runToken(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    sub: { type: 'string' },
    account: { type: 'string', multiple: true },
    role: { type: 'string', multiple: true },
    ttl: { type: 'string' },
    config: { type: 'string' },
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  if (values.sub === undefined || values.sub === '') throw new UsageError('--sub NAME is required')
  const roles = parseRoles(values.role ?? ['trader'])
  const accounts = [...new Set(values.account ?? [])]
  // An empty id (`--account "$ACCOUNT"` with the variable unset) was minted into the token as an account named "".
  if (accounts.includes('')) throw new UsageError('--account: expected an account id, got ""')
  if (accounts.length === 0 && roles.some((role) => role === 'trader' || role === 'bot')) {
    throw new UsageError('a trader or bot token needs at least one --account')
  }
  // The gateway's own check of a token's claims: a --sub of 300 characters or an --account of 65 was minted, exit 0,
  // into a token every request then answered 401 claims_invalid.
  const claims = principalFromClaims({ sub: values.sub, roles, accounts })
  if ('error' in claims) throw new UsageError(`the gateway refuses a token with these claims: ${claims.error}`)

  const config = loadConfig({ configPath: values.config, env: io.env })
  refuseWithoutHs256(config)
  const ttlSec = ttlOf(values.ttl, config)
  const known = new Set(config.accounts.map((account) => account.id))
  for (const account of accounts) {
    if (!known.has(account)) io.err(`warning: account ${account} is not in the config's accounts`)
  }
  // A secret this command generates is one no gateway has used: the usual cause is a different working directory or
  // EGRESS_DATA_DIR than the gateway's (dataDir defaults to the relative ./data), and the token then gets 401 with
  // nothing to say why. Said here, on stderr; the token is still minted (a first use before the first start is fine).
  const secretPath = hs256SecretPath(config.dataDir)
  const generated = config.auth.hs256Secret === undefined && !existsSync(secretPath)
  // The secret is written into the data dir: not into another program's directory, which `serve` would refuse
  // (DATA_DIR_FOREIGN) — the same check, before anything is written (EGRESS_DATA_DIR=. in a checkout left
  // auth/hs256.secret among its sources). A configured secret writes nothing, so it is not checked then.
  if (generated) {
    const configPath = values.config ?? (io.env[CONFIG_PATH_ENV] || undefined)
    refuseForeignDataDir(config.dataDir, configPath === undefined ? [] : [configPath])
  }
  const secret = resolveHs256Secret(config)
  if (generated) {
    io.err(`warning: generated a new HS256 secret in ${resolve(secretPath)}: only a gateway on the data directory ${resolve(config.dataDir)} will accept this token`)
  }
  const token = await mintHs256Token(secret, {
    sub: values.sub, roles, accounts, issuer: config.auth.issuer, audience: config.auth.audience, ttlSec,
  })
  const { jti, exp } = decodeJwt(token)
  const expires = new Date((exp ?? 0) * 1000).toISOString()
  // The jti and the expiry in ms are what an admin revokes it by (POST /v1/admin/revocations {"jti", "until_ms"}).
  io.err(`token for ${values.sub} (roles ${roles.join(',')}; accounts ${accounts.join(',') || '-'}), jti ${String(jti)}, expires ${expires} (${(exp ?? 0) * 1000} ms)`)
  io.out(token)
  return EXIT_OK
}

/**
 * A gateway on `config` verifies HS256 tokens only with auth.hs256Enabled (serve.ts, verifierOptionsFromConfig; on by
 * default in paper mode only, never in live): refused here, first, so no token is minted that every request would
 * answer 401 algorithm_not_allowed, and nothing is checked or written in the data directory for a secret it never uses.
 */
function refuseWithoutHs256(config: Config): void {
  const { auth } = config
  if (auth.hs256Enabled) return
  const why = config.mode !== 'paper' ? ` (HS256 is on by default in paper mode only; mode is ${config.mode})` : ''
  throw new ConfigError([{
    path: 'auth.hs256Enabled',
    message: `false${why}, so a gateway on this config refuses the HS256 tokens this command mints (401 algorithm_not_allowed); ` +
      `no token minted. Use a JWT from your identity provider signed by a key in ${auth.jwksFile ?? 'auth.jwksFile'} (issuer ${auth.issuer}, audience ${auth.audience}), ` +
      'or set auth.hs256Enabled: true (paper or shadow mode)',
  }])
}

/**
 * --ttl, checked against the one bound that holds, auth.tokenTtlSecMax, with the config loaded: checked first against
 * the config's own limit (30 days), --ttl 999999999 was told that limit, and a retry with it was then told 86400, the
 * default bound (a newcomer's walkthrough). Not given: an hour, or the bound when it is shorter (a config's 600 s
 * refused every token minted without --ttl).
 */
function ttlOf(raw: string | undefined, config: Config): number {
  const ttlSecMax = config.auth.tokenTtlSecMax ?? TOKEN_TTL_SEC_MAX_DEFAULT
  const bound = config.auth.tokenTtlSecMax === undefined ? 'auth.tokenTtlSecMax, the default' : 'auth.tokenTtlSecMax'
  return integerOption('ttl', raw, Math.min(TTL_SEC_DEFAULT, ttlSecMax), [1, ttlSecMax], { bound, why: 'a shorter-lived token bounds what a leaked one can do' })
}

function parseRoles(raw: readonly string[]): Role[] {
  for (const role of raw) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new UsageError(`--role: expected one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`)
    }
  }
  return [...new Set(raw as Role[])]
}
