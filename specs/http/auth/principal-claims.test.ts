import { describe, expect, test } from 'bun:test'
import { GATEWAY_PRINCIPAL_ID, isGatewayPrincipalId } from '../../../src/domain/accounts.ts'
import { principalFromClaims } from '../../../src/http/auth/index.ts'
import { kernelPrincipal } from '../../../src/http/principal.ts'
import { AUDIT_PRINCIPAL } from '../../../src/runtime/audit-duty.ts'
import { BOOTSTRAP_PRINCIPAL } from '../../../src/runtime/bootstrap.ts'
import { decodeCommandRecord, encodeCommandRecord } from '../../../src/runtime/ha/index.ts'
import { hsToken, SECRET, verifier } from './fixtures.ts'

const BASE = { sub: 'alice', roles: ['trader'], accounts: ['demo-1'] }

function refusal(claims: Record<string, unknown>): string | null {
  const principal = principalFromClaims({ ...BASE, ...claims })
  return 'error' in principal ? principal.error : null
}

describe('the token subject', () => {
  test("the gateway's own names are refused as a subject, in any letter case", () => {
    // The names the gateway writes into the log for what it does itself: a caller must never be recorded under them.
    for (const id of [GATEWAY_PRINCIPAL_ID, BOOTSTRAP_PRINCIPAL.id, AUDIT_PRINCIPAL.id]) expect(isGatewayPrincipalId(id)).toBe(true)
    for (const sub of ['egress', 'egress-bootstrap', 'egress-audit', 'EGRESS', 'Egress-Bootstrap', 'egress-next']) {
      expect(refusal({ sub })).toMatch(/sub must not be egress/)
    }
    for (const sub of ['egressor', 'my-egress', 'egress_bot']) expect(refusal({ sub })).toBeNull()
  })

  test('a subject with blanks, control or invisible characters, or past 128 characters is refused', () => {
    for (const sub of [' ', 'Alice Smith', 'al\nice', 'alice\t', 'ali\u200bce', '\u202eecila', 'älice', 'a'.repeat(129)]) {
      expect(refusal({ sub })).toMatch(/^sub must/)
    }
    expect(refusal({ sub: 'a'.repeat(128) })).toBeNull()
    expect(refusal({ sub: 'auth0|5f7c8ec7c33c6c004bbafe82' })).toBeNull()
    expect(refusal({ sub: 'alice@example.com' })).toBeNull()
  })

  test('an account in the scope with blanks or characters outside printable ASCII is refused', () => {
    for (const account of ['demo 1', ' demo-1', 'démo-1', 'demo-1\u200b']) {
      expect(refusal({ accounts: [account] })).toBe('accounts must be printable ASCII without spaces')
    }
  })

  test('a refused subject is a 401 claims_invalid, never a principal', async () => {
    const v = verifier({ hs256Secret: SECRET })
    try {
      const rejection = (token: string) => v.verify(token).then(() => 'accepted', (error: { details?: { reason?: string } }) => error.details?.reason)
      expect(await rejection(await hsToken({ claims: { sub: 'egress' } }))).toBe('claims_invalid')
      expect(await rejection(await hsToken({ claims: { sub: 'Alice Smith' } }))).toBe('claims_invalid')
      expect(await rejection(await hsToken({ claims: { sub: 'alice' } }))).toBe('accepted')
    } finally {
      v.close()
    }
  })
})

test('every principal a token yields is one a standby reads back from the command record of its act', () => {
  const claims = [
    BASE,
    { sub: 'a'.repeat(128), roles: ['ops', 'admin'], accounts: [] },
    { sub: 'bot|7', roles: ['bot'], accounts: ['demo-1', 'x'.repeat(64), '~!@#'] },
    { sub: 'Alice Smith', roles: ['admin'] },
    { sub: 'a'.repeat(200), roles: ['ops'] },
    { sub: 'alice', roles: ['trader'], accounts: ['démo-1'] },
  ]
  let accepted = 0
  for (const claim of claims) {
    const principal = principalFromClaims(claim)
    if ('error' in principal) continue
    accepted++
    const command = { kind: 'kill_switch' as const, nowMs: 1, principal: kernelPrincipal(principal), action: 'HALT' as const, note: '' }
    expect(decodeCommandRecord({ ...encodeCommandRecord(command, 1), type: 0xd010, version: 1 }).command).toEqual(command)
  }
  expect(accepted).toBe(3)
})
