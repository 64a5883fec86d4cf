/**
 * The sim draws each account's self-trade setting (scenario.ts selfTrade, drawn last) so both run: seeds whose
 * accounts refuse crossing orders and seeds whose accounts send them. A world is configured with the drawn settings
 * (withScenarioSelfTrade), and a SELF_TRADE_PREVENTED refusal on an account that allows self-trades is a violation
 * (self-trade-checks.ts); on one that refuses them it is counted.
 */

import { expect, test } from 'bun:test'
import { defaultKernelConfig } from '../../src/domain/kernel-config.ts'
import { paperPolicy } from '../../src/runtime/paper.ts'
import { ACCOUNTS } from '../runtime/harness.ts'
import { drawScenario, withScenarioSelfTrade } from './scenario.ts'
import { checkSelfTradeReply } from './self-trade-checks.ts'
import type { WorkloadContext } from './workload.ts'

test('seeds 1 to 20 draw both settings for every account, and a world is configured with its seed\'s', () => {
  const scenarios = Array.from({ length: 20 }, (_, index) => drawScenario(index + 1, { steps: 400, horizonMs: 60_000 }))
  for (const { accountId } of ACCOUNTS) expect(new Set(scenarios.map((scenario) => scenario.selfTrade[accountId]))).toEqual(new Set(['reject', 'allow']))
  // The same seed draws the same settings.
  expect(drawScenario(7, { steps: 10, horizonMs: 1_000 }).selfTrade).toEqual(drawScenario(7, { steps: 400, horizonMs: 60_000 }).selfTrade)
  const mixed = scenarios.find((scenario) => scenario.selfTrade['acct-a'] !== scenario.selfTrade['acct-b'])
  if (mixed === undefined) throw new Error('a seed whose accounts differ')
  const config = withScenarioSelfTrade(mixed, defaultKernelConfig({ digest: 'd', policies: ACCOUNTS.map((account) => paperPolicy(account.accountId, [], 1)) }))
  expect(Object.fromEntries(config.policies.map((policy) => [policy.accountId, policy.selfTrade]))).toEqual(mixed.selfTrade)
})

test('a self-trade refusal is counted on an account that refuses them and a violation on one that allows them', () => {
  const violations: string[] = []
  const ctx = {
    scenario: { selfTrade: { 'acct-a': 'reject', 'acct-b': 'allow' } },
    counters: {},
    violation: (invariant: string, message: string) => void violations.push(`${invariant}: ${message}`),
  } as unknown as WorkloadContext
  const refused = { kind: 'rejected', reason: 'SELF_TRADE_PREVENTED' }
  checkSelfTradeReply(ctx, 'acct-a', refused, 'a place')
  checkSelfTradeReply(ctx, 'acct-a', { kind: 'accepted' }, 'a place')
  checkSelfTradeReply(ctx, 'acct-b', { kind: 'rejected', reason: 'ORDER_NOTIONAL_LIMIT' }, 'a place')
  expect(violations).toEqual([])
  expect(ctx.counters).toEqual({ 'selfTradePrevented:reject': 1 })
  checkSelfTradeReply(ctx, 'acct-b', { kind: 'list_rejected', reason: 'SELF_TRADE_PREVENTED' }, 'a list')
  expect(violations).toEqual(['permissions: a list of acct-b was refused SELF_TRADE_PREVENTED though its policy says selfTrade "allow"'])
})
