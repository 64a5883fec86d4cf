/**
 * The banner `egress serve` prints on a paper start (serve.ts): how to get a token, watch the account's stream, place
 * an order and cancel one, each command pasted as printed working.
 */

import type { Config } from '../config/index.ts'
import { firstOrderExample } from './serve-sim.ts'

export interface PaperBannerOptions {
  /** The config file serve loaded (--config or EGRESS_CONFIG): the token command needs it for the issuer, audience and secret. */
  configPath?: string | undefined
  /** The running executable; default process.execPath. */
  execPath?: string
  /** The HS256 secret came from EGRESS_HS256_SECRET, which the token command needs too (it is never printed). */
  hs256SecretFromEnv?: boolean
}

/** The env variable an HS256 secret may come from, named by the banner's token hint (its value never printed). */
export const HS256_SECRET_ENV = 'EGRESS_HS256_SECRET'

/**
 * How to get a token, watch the account's stream, place an order and cancel one, printed on a paper start: each
 * command pasted as printed works, in the order printed. The stream comes before the order because it starts at the
 * log's end: opened after the POST (the banner's order once) it showed none of the order's events but a late fill.
 * The answers end with a newline (-w), so that neither the prompt nor the stream's next lines run on after the JSON.
 */
export function paperBanner(config: Config, url: string, options: PaperBannerOptions = {}): string {
  const account = config.accounts[0]?.id ?? 'demo-1'
  const order = firstOrderExample(config)
  return [
    '',
    `egress is running in paper mode at ${url} (sim venue, account ${account} funded)`,
    '',
    ...tokenHint(config, account, options),
    "Watch the account's live stream (in the background: kill %1 ends it; -H 'Last-Event-ID: 0' replays from the log's start):",
    `  curl -N ${url}/v1/accounts/${account}/stream -H "Authorization: Bearer $TOKEN" &`,
    'Place an order (202 with its order_id; the stream shows it accepted, sent, acknowledged and filled; its key names',
    'one order, so a repeat answers the first order again: each paste of this line makes a new key, and a new order):',
    `  curl -s -w '\\n' -X POST ${url}/v1/orders -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `    -H "Idempotency-Key: first-order-$(date +%s)" -d '{${orderBody(account, order.symbol, order.qty, order.price)}}'`,
    'Place one below the market, which rests, and cancel it (ORDER_ID: the order_id its POST answered):',
    `  ORDER_ID=$(curl -s -X POST ${url}/v1/orders -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `    -H "Idempotency-Key: resting-order-$(date +%s)" -d '{${orderBody(account, order.symbol, order.qty, order.restingPrice)}}' \\`,
    `    | grep -o '"order_id":"[^"]*"' | cut -d'"' -f4)`,
    `  curl -s -w '\\n' -X POST ${url}/v1/orders/$ORDER_ID/cancel -H "Authorization: Bearer $TOKEN"`,
    '',
  ].join('\n')
}

function orderBody(account: string, symbol: string, qty: string, price: string): string {
  return `"account":"${account}","symbol":"${symbol}","side":"buy","type":"limit","qty":"${qty}","price":"${price}"`
}

/**
 * The banner's lines on getting a token. `egress token` mints HS256 tokens, which a config with auth.hs256Enabled
 * false (a JWKS file only) refuses (401 algorithm_not_allowed): there the hint says what its tokens must be instead.
 */
function tokenHint(config: Config, account: string, options: PaperBannerOptions): string[] {
  const { auth } = config
  if (!auth.hs256Enabled) {
    return [
      `Get a token: auth.hs256Enabled is false, so the HS256 tokens "egress token" mints are refused; use a JWT from your`,
      `identity provider, signed (EdDSA, ES256 or RS256) by a key in ${auth.jwksFile ?? 'auth.jwksFile'}, issuer ${auth.issuer},`,
      `audience ${auth.audience}, with an exp and claims like {"sub":"alice","roles":["trader"],"accounts":["${account}"]}:`,
      '  TOKEN=<that token>',
    ]
  }
  const env = config.dataDir === './data' ? '' : `EGRESS_DATA_DIR=${shellWord(config.dataDir)} `
  const configOption = options.configPath === undefined ? '' : ` --config ${shellWord(options.configPath)}`
  // The token command finds the secret in the data directory, a relative ./data by default: run elsewhere, it made a
  // secret of its own there and its token was refused (bad_signature). So it did, pasted as printed, for a gateway
  // given its secret in EGRESS_HS256_SECRET: the variable is named (its value never printed).
  const where = options.hs256SecretFromEnv === true
    ? [`Get a token, in a second terminal in this directory with ${HS256_SECRET_ENV} set as this gateway's (its HS256 secret: without`, 'it the command makes a secret of its own in the data directory, and the gateway refuses its tokens):']
    : ['Get a token, in a second terminal in this directory (the command reads the gateway\'s data directory):']
  return [...where, `  TOKEN=$(${env}${cliProgram(options.execPath ?? process.execPath)} token${configOption} --sub alice --account ${account} --role trader)`]
}

/**
 * The command that runs this CLI from a shell: the compiled binary itself, or from a checkout `bun src/main.ts` — `npx
 * bun` when this Bun is the npm devDependency, which is not on a shell's PATH (README set-up: npm install && npm start).
 */
function cliProgram(execPath: string): string {
  if (import.meta.url.includes('$bunfs')) return shellWord(execPath)
  return /[\\/]node_modules[\\/]/.test(execPath) ? 'npx bun src/main.ts' : 'bun src/main.ts'
}

function shellWord(text: string): string {
  return /^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
}
