import { describe, expect, test } from 'bun:test'
import {
  canChangeMode, canHalt, canRead, canReadAudit, canTrade, type Principal, type Role,
} from '../../../src/http/auth/index.ts'

function as(...roles: Role[]): Principal {
  return { sub: 'p', roles, accounts: ['acc-1'] }
}

describe('role rules', () => {
  test('a trader trades and reads only its own accounts', () => {
    const p = as('trader')
    expect([canTrade(p, 'acc-1'), canTrade(p, 'acc-2'), canRead(p, 'acc-1'), canRead(p, 'acc-2')]).toEqual([true, false, true, false])
    expect([canHalt(p), canReadAudit(p), canChangeMode(p)]).toEqual([false, false, false])
  })

  test('a bot trades and reads only its own accounts', () => {
    const p = as('bot')
    expect([canTrade(p, 'acc-1'), canTrade(p, 'acc-2'), canRead(p, 'acc-2')]).toEqual([true, false, false])
    expect([canHalt(p), canReadAudit(p), canChangeMode(p)]).toEqual([false, false, false])
  })

  test('ops halts and reads every account but cannot trade, read audit or change mode', () => {
    const p = as('ops')
    expect([canTrade(p, 'acc-1'), canRead(p, 'acc-2'), canHalt(p)]).toEqual([false, true, true])
    expect([canReadAudit(p), canChangeMode(p)]).toEqual([false, false])
  })

  test('an auditor reads audit and every account but cannot trade, halt or change mode', () => {
    const p = as('auditor')
    expect([canTrade(p, 'acc-1'), canRead(p, 'acc-2'), canReadAudit(p)]).toEqual([false, true, true])
    expect([canHalt(p), canChangeMode(p)]).toEqual([false, false])
  })

  test('an admin changes mode, halts and reads audit, but cannot trade without a trading role', () => {
    const p = as('admin')
    expect([canChangeMode(p), canHalt(p), canReadAudit(p), canRead(p, 'acc-2')]).toEqual([true, true, true, true])
    expect(canTrade(p, 'acc-1')).toBe(false)
  })

  test('roles add up', () => {
    const p = as('trader', 'ops')
    expect([canTrade(p, 'acc-1'), canHalt(p), canRead(p, 'acc-9')]).toEqual([true, true, true])
  })
})
