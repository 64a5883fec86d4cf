/** The automatic stop part of the document (routes/auto-stop.ts): the operators' read of the breakers. */

import { jsonAnswer, operation, type DocumentPart } from './shared.ts'

export function autoStopPart(): DocumentPart {
  return {
    schemas: {},
    paths: {
      '/v1/auto_stop': {
        get: operation({
          tag: 'admin',
          summary:
            'The auto-stop breakers (config autoStop): the trading switch, whether they are armed, each breaker’s action, threshold, figures now and trips, the last trip (its note is the switch.changed record’s, or the account.switch_changed record’s for an order_rate trip with scope account), and the accounts stopped on their own now. ops, admin, auditor',
          security: 'bearer',
          errors: ['401', '403', '503'],
          responses: {
            '200': jsonAnswer('{ configured, trading_switch, running, armed, armed_at_ms, breakers: [...], last_trip, stopped_accounts: [...] }', {
              type: 'object',
              properties: {
                configured: { type: 'boolean', description: 'false: no config autoStop, no breaker' },
                trading_switch: { type: 'string' },
                running: { type: 'boolean', description: 'The breakers run (a leader, once ready; never a standby)' },
                armed: { type: 'boolean', description: 'false after a trip, or while any switch is engaged, until a RESUME' },
                armed_at_ms: { type: ['integer', 'null'] },
                breakers: { type: 'array', items: { type: 'object' } },
                last_trip: { type: ['object', 'null'], description: '{ breaker, at_ms, note, account }: account null when the trip engaged the trading switch' },
                stopped_accounts: {
                  type: 'array',
                  description: 'The accounts stopped on their own (order_rate with scope account tripped on them, or an operator stopped them: POST /v1/accounts/{id}/halt | cancel-only), by account id, as the log holds them; lifted by POST /v1/accounts/{id}/resume or /v1/admin/resume',
                  items: {
                    type: 'object',
                    properties: {
                      account: { type: 'string' },
                      account_switch: { type: 'string', enum: ['halted', 'cancel_only'] },
                      principal: { type: 'string', description: 'Who stopped it: egress-auto-stop for a breaker’s trip, else the operator' },
                      at_ms: { type: 'integer' },
                      note: { type: 'string', description: 'The breaker’s (naming it and its figures) or the operator’s' },
                      record_lsn: {
                        type: ['integer', 'null'],
                        description: 'LSN of the account.switch_changed record that stopped it (or moved its switch); null when it is not at hand: compaction removed it, or the log index is still reading the log after a restart',
                      },
                      config_digest: {
                        type: ['string', 'null'],
                        description: 'The digest of the config the stop was decided under, as its record carries it; null when record_lsn is, or for a record written before payload version 13',
                      },
                      build_commit: {
                        type: ['string', 'null'],
                        description: 'The build that decided the stop, as its record carries it; null when record_lsn is, for a record written before payload version 13, or a build that named none',
                      },
                    },
                  },
                },
              },
            }),
          },
        }),
      },
    },
  }
}
