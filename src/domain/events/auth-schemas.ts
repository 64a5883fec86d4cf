/**
 * The records of token revocation (src/domain/revocations.ts): an admin's decision that bearer tokens are refused
 * before they expire. Held in the kernel state (KernelState.revocations), so a restart, a standby and a snapshot keep
 * them as they keep everything else the log says.
 */

import * as v from 'valibot'
import { idSchema, msSchema } from '../schema-kit.ts'
import { attribution } from './record-parts.ts'

export const AUTH_EVENT_SCHEMAS = {
  /** One token, by its `jti`, refused until untilMs (its expiry or later). */
  'auth.token_revoked': v.strictObject({
    type: v.literal('auth.token_revoked'),
    atMs: msSchema,
    jti: idSchema,
    untilMs: msSchema,
    principalId: v.string(),
    note: v.string(),
    ...attribution,
  }),
  /** Every token of `sub` (any letter case) issued before issuedBeforeMs refused until untilMs. */
  'auth.subject_revoked': v.strictObject({
    type: v.literal('auth.subject_revoked'),
    atMs: msSchema,
    sub: idSchema,
    issuedBeforeMs: msSchema,
    untilMs: msSchema,
    principalId: v.string(),
    note: v.string(),
    ...attribution,
  }),
} as const
