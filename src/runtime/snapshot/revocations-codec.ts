/**
 * Format 15's token revocations (src/kernel/revocations.ts) in the kernel section: both maps in their insertion order
 * and the count of revocation records applied.
 */

import type { Revocations, SubjectRevocation, TokenRevocation } from '../../domain/revocations.ts'
import { mapOf, num, record, str } from './codec-kit.ts'

const tokenRevocation = record<TokenRevocation>('TokenRevocation', { jti: str, untilMs: num, atMs: num, principalId: str, note: str, lsn: num })

const subjectRevocation = record<SubjectRevocation>('SubjectRevocation', {
  sub: str,
  issuedBeforeMs: num,
  untilMs: num,
  atMs: num,
  principalId: str,
  note: str,
  lsn: num,
})

export const revocationsCodec = record<Revocations>('Revocations', { tokens: mapOf(tokenRevocation), subjects: mapOf(subjectRevocation), recorded: num })
