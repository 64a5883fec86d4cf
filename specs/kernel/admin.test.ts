import { describe, expect, test } from 'bun:test'
import type { Principal } from '../../src/domain/accounts.ts'
import { admin, Harness, ops, T0, trader } from './fixtures.ts'

function setMode(harness: Harness, principal: Principal, mode: 'paper' | 'shadow' | 'live') {
  return harness.run({ kind: 'set_mode', nowMs: T0, principal, mode, note: 'spec' })
}

describe('changing the mode (issue 4: "admin changes mode")', () => {
  test('ops may not change the mode: refused, nothing recorded, the mode unchanged', () => {
    const harness = Harness.funded()
    expect(setMode(harness, ops, 'shadow')).toEqual({ events: [], reply: { kind: 'refused', reason: 'PERMISSION_DENIED', detail: 'changing mode needs admin' } })
    expect(harness.state.mode).toBe('paper')
  })

  test('a trader may not either', () => {
    const harness = Harness.funded()
    expect(setMode(harness, trader, 'live').reply).toMatchObject({ kind: 'refused', reason: 'PERMISSION_DENIED' })
    expect(harness.state.mode).toBe('paper')
  })

  test('an admin changes it, recorded with who did it; a principal holding ops and admin may too', () => {
    const harness = Harness.funded()
    const decision = setMode(harness, admin, 'shadow')
    expect(decision.reply).toEqual({ kind: 'done' })
    expect(decision.events).toEqual([{ type: 'mode.changed', atMs: T0, mode: 'shadow', principalId: admin.id, note: 'spec', configDigest: harness.state.config?.digest as string }])
    expect(harness.state.mode).toBe('shadow')
    expect(setMode(harness, { ...ops, roles: ['ops', 'admin'] }, 'paper').reply).toEqual({ kind: 'done' })
    expect(harness.state.mode).toBe('paper')
  })

  test('ops still pulls the kill switches', () => {
    const harness = Harness.funded()
    expect(harness.run({ kind: 'kill_switch', nowMs: T0, principal: ops, action: 'HALT', note: '' }).reply).toEqual({ kind: 'done' })
    expect(harness.state.tradingSwitch).toBe('halted')
  })
})
