/**
 * The benchmarks that trade marketable buys and sells on one account (bench-snapshot, bench-takeover-stop, and those
 * building their logs with trade-batch.ts) would, under the default policy, meet self-trade prevention: a sell placed
 * while the account's buy is still open crosses it and is refused SELF_TRADE_PREVENTED, so the bench would measure
 * refusals instead of the fills it means to. Their worlds give every account `selfTrade: "allow"` (allowSelfTrade,
 * startWorld's `configure`), and each run counts the refusals it still meets and fails on any (SelfTradeRefusals).
 */

import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import type { CommandResult } from '../../src/runtime/gateway-commands.ts'

/** The config with every account's policy on `selfTrade: "allow"`: crossing its own orders is the bench's traffic. */
export function allowSelfTrade(config: KernelConfig): KernelConfig {
  return { ...config, policies: config.policies.map((policy) => ({ ...policy, selfTrade: 'allow' as const })) }
}

/** Counts the places refused SELF_TRADE_PREVENTED; `assertNone` throws when there was one. */
export class SelfTradeRefusals {
  count = 0

  note(result: CommandResult): CommandResult {
    if (result.reply.kind === 'rejected' && result.reply.reason === 'SELF_TRADE_PREVENTED') this.count++
    return result
  }

  assertNone(script: string): void {
    if (this.count > 0) throw new Error(`${script}: ${this.count} orders were refused SELF_TRADE_PREVENTED; its accounts must allow self-trades (allowSelfTrade), or it measures refusals`)
  }
}
