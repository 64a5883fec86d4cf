/**
 * The instrument the simulation adds when it checks the back office (`--backoffice`): RND-USD, priced to the 1e-6 and
 * traded in lots of 1e-3, so a fill's cash (qty × price, 9 decimals) rounds to the 1e-8 unit — which no default sim
 * instrument's does (their tick × lot has 6 decimals at most; only their fees round). With it the ledger's per-fill
 * rounding (a buy pays up, a sell receives down), the sim venue's charging the same way, the per-lot reservation
 * (README "Ledger arithmetic") and the checks that hold them equal — ledger = kernel = query model = replay, and
 * venue_balances against the venue — run under faults, crashes and amends. No account starts with RND: a sell needs
 * an earlier buy's position.
 */

import { defaultSimInstruments, instrumentKey, type Instrument } from '../../src/domain/instruments.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { SimInstrument } from '../../src/venues/sim/index.ts'

export const ROUNDING_SYMBOL = 'RND-USD'

export function roundingInstrument(): Instrument {
  const [model] = defaultSimInstruments()
  if (model === undefined) throw new Error('the sim has no default instrument')
  // Tick 1e-6, lot 1e-3; 500 RND at most (the workload's 'tooBig' mistake sends 900); the opening price is the sim's 100.
  return { ...model, symbol: ROUNDING_SYMBOL, baseAsset: 'RND', tickSize: 100n, lotSize: 100_000n, minQty: 100_000n, maxQty: 50_000_000_000n, minNotional: 0n }
}

/** The kernel config with RND-USD added, and every account's policy allowing it. */
export function withRoundingInstrument(config: KernelConfig): KernelConfig {
  const key = instrumentKey(roundingInstrument().venue, ROUNDING_SYMBOL)
  return {
    ...config,
    instruments: [...config.instruments, roundingInstrument()],
    policies: config.policies.map((policy) => ({ ...policy, instruments: [...policy.instruments, key] })),
  }
}

/** The sim venue's instruments with RND-USD added. */
export function simInstrumentsWithRounding(): SimInstrument[] {
  return simInstrumentsFor([...defaultSimInstruments(), roundingInstrument()])
}
