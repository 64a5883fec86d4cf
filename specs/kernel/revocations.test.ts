/**
 * Token revocation in the kernel (src/kernel/revocations.ts): an admin's revocation of one token (jti) or of a
 * subject's tokens issued before a time is a record; the set it builds holds live entries only, at most
 * REVOCATIONS_MAX of them; a replay of the log builds the same set.
 */

import { describe, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import { REVOCATION_MS_MAX, REVOCATIONS_MAX, revocationOf, subjectKey } from '../../src/domain/revocations.ts'
import { applyInPlace, cloneState, initialState, stateDigest, type Decision } from '../../src/kernel/index.ts'
import { admin, Harness, ops, T0 } from './fixtures.ts'

function revokeJti(harness: Harness, jti: string, untilMs: number, by: Principal = admin): Decision {
  return harness.run({ kind: 'revoke_token', target: 'token', nowMs: harness.nowMs, principal: by, jti, untilMs, note: 'leaked' })
}

function revokeSub(harness: Harness, sub: string, issuedBeforeMs: number, untilMs: number): Decision {
  return harness.run({ kind: 'revoke_token', target: 'subject', nowMs: harness.nowMs, principal: admin, sub, issuedBeforeMs, untilMs, note: '' })
}

const facts = (jti: string | null, sub: string, issuedAtMs: number | null) => ({ jti, subKey: subjectKey(sub), issuedAtMs })

describe('token revocations', () => {
  test('a revoked jti is matched until its untilMs, other tokens never', () => {
    const harness = Harness.funded()
    const decision = revokeJti(harness, 'jti-1', T0 + 60_000)
    expect(decision.reply).toEqual({ kind: 'done' })
    expect(decision.events).toEqual([{ type: 'auth.token_revoked', atMs: T0, jti: 'jti-1', untilMs: T0 + 60_000, principalId: 'ada', note: 'leaked', configDigest: harness.state.config?.digest as string }])
    const { revocations } = harness.state
    expect(revocationOf(revocations, facts('jti-1', 'alice', T0 - 5), T0 + 59_999)?.lsn).toBe(harness.state.lastLsn)
    expect(revocationOf(revocations, facts('jti-1', 'alice', T0 - 5), T0 + 60_000)).toBeNull()
    expect(revocationOf(revocations, facts('jti-2', 'alice', T0 - 5), T0)).toBeNull()
    expect(revocationOf(revocations, facts(null, 'alice', T0 - 5), T0)).toBeNull()
  })

  test("a subject's revocation matches its tokens issued before the bound, in any letter case, and none issued after", () => {
    const harness = Harness.funded()
    revokeSub(harness, 'Bot-7', T0, T0 + 86_400_000)
    const { revocations } = harness.state
    expect(revocationOf(revocations, facts('a', 'bot-7', T0 - 1), T0 + 1)).not.toBeNull()
    expect(revocationOf(revocations, facts('a', 'BOT-7', null), T0 + 1)).not.toBeNull()
    expect(revocationOf(revocations, facts('a', 'bot-7', T0), T0 + 1)).toBeNull()
    expect(revocationOf(revocations, facts('a', 'bot-8', T0 - 1), T0 + 1)).toBeNull()
  })

  test('only an admin revokes; an end not after the time or beyond the bound, or a future issue bound, is refused with nothing recorded', () => {
    const harness = Harness.funded()
    const before = harness.log.length
    expect(revokeJti(harness, 'j', T0 + 1_000, ops).reply).toMatchObject({ kind: 'refused', reason: 'PERMISSION_DENIED' })
    expect(revokeJti(harness, 'j', T0).reply).toMatchObject({ kind: 'refused', reason: 'SYNTAX_INVALID' })
    expect(revokeJti(harness, 'j', T0 + REVOCATION_MS_MAX + 1).reply).toMatchObject({ kind: 'refused', reason: 'SYNTAX_INVALID' })
    expect(revokeSub(harness, 'bob', T0 + 1, T0 + 1_000).reply).toMatchObject({ kind: 'refused', reason: 'SYNTAX_INVALID' })
    expect(harness.log.length).toBe(before)
  })

  test('entries ended are pruned at the next revocation; a second revocation widens, never narrows', () => {
    const harness = Harness.funded()
    revokeJti(harness, 'short', T0 + 1_000)
    revokeJti(harness, 'long', T0 + 100_000)
    revokeJti(harness, 'long', T0 + 5_000)
    expect(harness.state.revocations.tokens.get('long')?.untilMs).toBe(T0 + 100_000)
    expect(harness.state.revocations.tokens.size).toBe(2)
    harness.nowMs = T0 + 2_000
    revokeSub(harness, 'carol', T0 + 2_000, T0 + 10_000)
    expect([...harness.state.revocations.tokens.keys()]).toEqual(['long'])
    expect(harness.state.revocations.recorded).toBe(4)
  })

  test('at REVOCATIONS_MAX live entries a new one is refused REVOCATIONS_FULL; re-revoking one held, or one once others ended, is not', () => {
    const harness = Harness.funded()
    for (let index = 0; index < REVOCATIONS_MAX; index++) {
      harness.state.revocations.tokens.set(`t${index}`, { jti: `t${index}`, untilMs: index === 0 ? T0 + 10 : T0 + 60_000, atMs: T0, principalId: 'ada', note: '', lsn: 1 })
    }
    const refused = revokeJti(harness, 'one-more', T0 + 1_000)
    expect(refused).toMatchObject({ events: [], reply: { kind: 'refused', reason: 'REVOCATIONS_FULL' } })
    expect(revokeSub(harness, 'dave', T0, T0 + 1_000).reply).toMatchObject({ kind: 'refused', reason: 'REVOCATIONS_FULL' })
    expect(revokeJti(harness, 't5', T0 + 70_000).reply).toEqual({ kind: 'done' })
    harness.nowMs = T0 + 10
    expect(revokeJti(harness, 'one-more', T0 + 1_000).reply).toEqual({ kind: 'done' })
    expect(harness.state.revocations.tokens.size).toBe(REVOCATIONS_MAX)
  })

  test('replaying the log builds the same set', () => {
    const harness = Harness.funded()
    revokeJti(harness, 'j1', T0 + 1_000)
    revokeSub(harness, 'erin', T0, T0 + 5_000)
    harness.nowMs = T0 + 2_000
    revokeJti(harness, 'j2', T0 + 9_000)
    const replayed = initialState()
    harness.log.forEach((event, index) => applyInPlace(replayed, event, { lsn: index + 1 }))
    expect(stateDigest(replayed)).toBe(stateDigest(harness.state))
    expect([...replayed.revocations.tokens.keys()]).toEqual(['j2'])
  })

  test('a clone (what a snapshot encodes while the engine goes on) does not see a revocation applied to the original after it', () => {
    const harness = Harness.funded()
    revokeJti(harness, 'j1', T0 + 60_000)
    const clone = cloneState(harness.state)
    const digest = stateDigest(clone)
    revokeJti(harness, 'j2', T0 + 60_000)
    revokeJti(harness, 'j1', T0 + 90_000)
    expect([...clone.revocations.tokens.keys()]).toEqual(['j1'])
    expect(clone.revocations.tokens.get('j1')?.untilMs).toBe(T0 + 60_000)
    expect(clone.revocations.recorded).toBe(1)
    expect(stateDigest(clone)).toBe(digest)
  })
})
