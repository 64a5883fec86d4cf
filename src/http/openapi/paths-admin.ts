/**
 * The operator controls part of the document (routes/admin.ts, admin-snapshot.ts): mode, the kill switches, an
 * on-demand snapshot, and per-account flatten.
 */

import { FLATTEN_BODY_SCHEMA, MODE_BODY_SCHEMA, SWITCH_BODY_SCHEMA } from '../routes/admin.ts'
import { SNAPSHOT_BODY_SCHEMA } from '../routes/admin-snapshot.ts'
import { ACCOUNT_ID, errorResponse, IDEMPOTENCY_KEY, jsonAnswer, jsonContent, operation, ref, schemaOf, TRACEPARENT, type DocumentPart, type Json } from './shared.ts'

const LSN = { type: ['integer', 'null'], description: 'LSN of the last record the command wrote; null when it wrote none (a repeat: the mode or switch was already so)' }
const SWITCH_RECORDED = jsonAnswer('Switch recorded', { type: 'object', properties: { action: { type: 'string' }, trading_switch: { type: 'string' }, lsn: LSN } })
const ACCOUNT_SWITCH_RECORDED = jsonAnswer('Account switch recorded', {
  type: 'object',
  required: ['account', 'action', 'account_switch', 'lsn'],
  properties: {
    account: { type: 'string' },
    action: { type: 'string', enum: ['HALT', 'CANCEL_ONLY', 'RESUME'] },
    account_switch: { type: 'string', enum: ['halted', 'cancel_only', 'normal'], description: "The account's own switch this decision left (GET /v1/auto_stop stopped_accounts lists the accounts stopped now)" },
    lsn: LSN,
  },
})

/** What an operator's HALT or CANCEL_ONLY of one account does (routes/admin.ts accountSwitch). */
const ACCOUNT_STOP_DESCRIPTION =
  "The account's new orders and amends are refused (ACCOUNT_HALTED or ACCOUNT_CANCEL_ONLY) and its places and amends waiting to be sent end, as the auto-stop's order_rate trip with scope account does; recorded as account.switch_changed with the caller as principal. An account stopped with the other switch is moved to this one (the record says so). Reads no Idempotency-Key: a repeat is decided again; the switch already in force with nothing of the account's left waiting is 200 with lsn null and records nothing (its note neither). 403 POLICY_MISSING: an account not stopped that has no policy."

/** One account's own switch (routes/admin.ts accountSwitch): HALT or CANCEL_ONLY engaging or moving it, or RESUME. */
function accountSwitchOperation(summary: string, description: string): Json {
  return operation({
    tag: 'admin',
    summary,
    description,
    security: 'bearer',
    parameters: [ACCOUNT_ID],
    errors: ['400', '401', '403', '404', '413', '415', '429', '503'],
    responses: { '200': ACCOUNT_SWITCH_RECORDED },
    requestBody: { required: false, content: jsonContent(ref('KillSwitch')) },
  })
}

function killSwitch(summary: string): Json {
  return operation({
    tag: 'admin',
    summary,
    security: 'bearer',
    errors: ['400', '401', '403', '413', '415', '429', '503'],
    responses: { '200': SWITCH_RECORDED },
    requestBody: { required: false, content: jsonContent(ref('KillSwitch')) },
  })
}

export function adminPart(): DocumentPart {
  return {
    schemas: {
      SetMode: schemaOf(MODE_BODY_SCHEMA),
      KillSwitch: schemaOf(SWITCH_BODY_SCHEMA),
      SnapshotTaken: {
        type: 'object',
        required: ['taken', 'lsn'],
        properties: {
          taken: { type: 'boolean', description: 'false: nothing changed since the newest snapshot (reason, newest)' },
          lsn: { type: 'integer', description: 'The LSN the snapshot holds the projections at' },
          file: { type: 'string' },
          digest: { type: 'string', description: 'SHA-256 of the snapshot file content (hex)' },
          bytes: { type: 'integer' },
          pause_ms: { type: 'number', description: 'Intake pause: the synchronous capture of every section' },
          block_ms_max: { type: 'number', description: 'Longest single stretch the snapshot held the event loop' },
          write_ms: { type: 'number' },
          total_ms: { type: 'number' },
          compaction: { type: ['object', 'null'], description: 'What the configured compaction removed after it' },
          reason: { type: 'string' },
          newest: { type: ['object', 'null'] },
        },
      },
    },
    paths: {
      '/v1/admin/mode': {
        post: operation({
          tag: 'admin',
          summary: 'Change mode (paper, shadow, live). admin only',
          description: 'Reads no Idempotency-Key (one sent is ignored): a repeat is decided again. The mode already in force is 200 with lsn null and records nothing (its note neither); a repeat arriving after another admin changed the mode changes it again.',
          security: 'bearer',
          errors: ['400', '401', '403', '413', '415', '429', '503'],
          responses: { '200': jsonAnswer('Mode recorded', { type: 'object', properties: { mode: { type: 'string' }, lsn: LSN } }) },
          requestBody: { required: true, content: jsonContent(ref('SetMode')) },
        }),
      },
      '/v1/admin/halt': { post: killSwitch('HALT: nothing new accepted; only cancels and flatten closes sent. ops, admin') },
      '/v1/admin/cancel-only': { post: killSwitch('CANCEL_ONLY: cancels only. ops, admin') },
      '/v1/admin/resume': { post: killSwitch("RESUME normal trading; also lifts every account's own switch (GET /v1/auto_stop stopped_accounts). ops, admin") },
      '/v1/accounts/{id}/resume': {
        post: accountSwitchOperation(
          "Lift the account's own kill switch (an auto-stop order_rate trip with scope account, or an operator, engaged it: its new orders refused ACCOUNT_HALTED or ACCOUNT_CANCEL_ONLY). ops, admin",
          "Reads no Idempotency-Key: a repeat is decided again. An account not stopped is 200 with lsn null and records nothing (its note neither). A RESUME that ends the account's held work in parts gives up if the account's switch is asked again meanwhile (POST /v1/accounts/{id}/halt or cancel-only): 503 ACCOUNT_HALTED or ACCOUNT_CANCEL_ONLY, the switch not lifted.",
        ),
      },
      '/v1/accounts/{id}/halt': { post: accountSwitchOperation("HALT one account by hand, or move its CANCEL_ONLY to HALT: its flatten's closes go out (Lane0), nothing else of it is sent but cancels; every other account trades on. ops, admin", ACCOUNT_STOP_DESCRIPTION) },
      '/v1/accounts/{id}/cancel-only': { post: accountSwitchOperation('CANCEL_ONLY one account by hand, or move its HALT to CANCEL_ONLY: only its cancels are sent, its flatten’s closes wait. ops, admin', ACCOUNT_STOP_DESCRIPTION) },
      '/v1/admin/snapshot': {
        post: operation({
          tag: 'admin',
          summary: 'Take a snapshot of the projections now: LSN, file, digest, bytes, intake pause; taken false when nothing changed. ops, admin',
          security: 'bearer',
          errors: ['400', '401', '403', '413', '415', '503'],
          responses: {
            '200': { description: 'Snapshot written (or already current)', content: jsonContent(ref('SnapshotTaken')) },
            '409': errorResponse('Snapshots are disabled in the config (details.reason snapshots_disabled)'),
            '503': errorResponse('Not ready or draining, the log has failed (details.reason log_failed), or the snapshot failed (snapshot_failed, details.detail says why)'),
          },
          requestBody: { required: false, content: jsonContent(schemaOf(SNAPSHOT_BODY_SCHEMA, 'Empty object or no body')) },
        }),
      },
      '/v1/accounts/{id}/flatten': {
        post: operation({
          tag: 'admin',
          summary: "Cancel the account's open orders (every venue) and close its positions (Lane0): each base asset held once, for the whole holding, on one venue — the first instrument by venue:symbol with a reference price (the books are per account and asset, not per venue) — in closes of at most the instrument's maxQty (at most 100 per instrument). The account's trader/bot, or ops/admin",
          security: 'bearer',
          errors: ['400', '401', '403', '404', '413', '415', '429', '503'],
          responses: {
            '202': jsonAnswer('Flatten recorded; a repeat with the same Idempotency-Key within the key window records nothing and answers this answer byte for byte', {
              type: 'object',
              properties: {
                account: { type: 'string' },
                flatten_id: { type: 'string' },
                lsn: LSN,
                not_closed: {
                  type: 'array',
                  description:
                    "Holdings this flatten left open, whole or in part, by asset: INSTRUMENT_UNKNOWN, no instrument in the config trades the asset (taken out with the account still holding it); QTY_BELOW_MIN (what is left, rounded down to the lot, under minQty: also what is left under the lot), NOTIONAL_BELOW_MIN, QTY_ABOVE_MAX (the instrument's maxQty under its smallest close), FLATTEN_CLOSES_MAX (past the closes one flatten sends: a new flatten closes the next ones), OVERLOADED (past the keys the gateway's full idempotency index lets flatten closes take: a new flatten closes them once keys have aged out) or FLATTEN_NO_PRICE, what the closes left of a holding an instrument trades; a holding left for more than one reason has one entry per reason. Close them at the venue, or fix the instrument or price and flatten again",
                  items: {
                    type: 'object',
                    properties: {
                      asset: { type: 'string' },
                      qty: { type: 'string' },
                      reason: { type: 'string', enum: ['INSTRUMENT_UNKNOWN', 'QTY_BELOW_MIN', 'NOTIONAL_BELOW_MIN', 'QTY_ABOVE_MAX', 'FLATTEN_CLOSES_MAX', 'OVERLOADED', 'FLATTEN_NO_PRICE'] },
                    },
                  },
                },
              },
            }),
            '422': errorResponse('FLATTEN_POSITION_UNRECORDABLE: a position to close is beyond the largest amount a record holds (20 whole digits); nothing was canceled or closed'),
          },
          parameters: [ACCOUNT_ID, { ...IDEMPOTENCY_KEY, description: 'Names the flatten: a retry with the same key within the key window answers the first answer and records nothing. To flatten again, send a new key; without one, each request is a new flatten.' }, TRACEPARENT],
          requestBody: { required: false, content: jsonContent(schemaOf(FLATTEN_BODY_SCHEMA, 'Empty object or no body')) },
        }),
      },
    },
  }
}
