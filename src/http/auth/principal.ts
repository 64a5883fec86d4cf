/**
 * Who is calling: the principal a verified token stands for. Roles and account scopes come from the token's claims
 * (`roles`, `accounts`); a token whose claims do not fit this shape is rejected, never half-trusted.
 */

import * as v from 'valibot'
import { isGatewayPrincipalId } from '../../domain/accounts.ts'

export const ROLES = ['trader', 'bot', 'ops', 'auditor', 'admin'] as const
export type Role = (typeof ROLES)[number]

export interface Principal {
  /** The token subject: a person or a bot name. */
  sub: string
  roles: readonly Role[]
  /** Accounts this principal may trade (with trader/bot) and read. */
  accounts: readonly string[]
}

/** Bounds keep a hostile token from making us allocate or iterate without limit. */
const ROLES_MAX = ROLES.length
const ACCOUNTS_MAX = 256
const ACCOUNT_CHARS_MAX = 64
/** As the kernel's principal id (domain idSchema): the log's command records hold no other, and a standby reads them. */
const SUB_CHARS_MAX = 128
/** What POST /v1/admin/revocations takes as a `jti` (routes/revocations.ts): every token id accepted can be revoked. */
const JTI_CHARS_MAX = 128

/**
 * Printable ASCII without spaces, as the kernel's principal ids and accounts are (domain idSchema). A subject or
 * account outside it was accepted here and decided on, but the command record holding it (runtime/ha/command-record.ts)
 * did not decode on a standby; and a subject with a line break, blanks or invisible characters in it is a name the
 * audit trail shows as another.
 */
const PRINTABLE = /^[\x21-\x7e]+$/

const CLAIMS = v.object({
  sub: v.pipe(
    v.string('sub must be a string'),
    v.minLength(1, 'sub must not be empty'),
    v.maxLength(SUB_CHARS_MAX, `sub must be at most ${SUB_CHARS_MAX} characters`),
    v.regex(PRINTABLE, 'sub must be printable ASCII without spaces'),
    v.check((sub) => !isGatewayPrincipalId(sub), 'sub must not be egress or start with egress- (the names the gateway acts under in the log)'),
  ),
  roles: v.pipe(
    v.array(v.picklist(ROLES, `roles must each be one of ${ROLES.join(', ')}`), 'roles must be an array'),
    v.minLength(1, 'roles must not be empty'),
    v.maxLength(ROLES_MAX, 'roles has too many entries'),
  ),
  accounts: v.optional(
    v.pipe(
      v.array(
        v.pipe(
          v.string('accounts must be strings'),
          v.minLength(1, 'accounts must not be empty strings'),
          v.maxLength(ACCOUNT_CHARS_MAX, `accounts must be at most ${ACCOUNT_CHARS_MAX} characters each`),
          v.regex(PRINTABLE, 'accounts must be printable ASCII without spaces'),
        ),
        'accounts must be an array',
      ),
      v.maxLength(ACCOUNTS_MAX, 'accounts has too many entries'),
    ),
    [],
  ),
  /**
   * Not part of the principal, but what a revocation of this one token names (revocation-check.ts). jose does not check
   * its type: a token with `"jti": 5` was accepted with no token id at all, and an admin's revocation of jti "5" was
   * answered 200 while the token went on working. Refused, as a subject the log could not hold is.
   */
  jti: v.optional(
    v.pipe(
      v.string('jti must be a string'),
      v.maxLength(JTI_CHARS_MAX, `jti must be at most ${JTI_CHARS_MAX} characters (what a revocation names)`),
      v.regex(PRINTABLE, 'jti must be printable ASCII without spaces (what a revocation names)'),
    ),
  ),
})

/** The principal for a verified claims set, or an error message saying which claim is wrong. */
export function principalFromClaims(claims: unknown): Principal | { error: string } {
  const result = v.safeParse(CLAIMS, claims)
  if (!result.success) return { error: result.issues[0]?.message ?? 'claims are invalid' }
  const { sub, roles, accounts } = result.output
  return { sub, roles: [...new Set(roles)], accounts: [...new Set(accounts)] }
}
