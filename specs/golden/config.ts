/**
 * Turns a trace's `config` block into the harness's `configure` hook: patches of the paper policies and instruments
 * (amounts as decimal strings), plus instruments the kernel knows but the sim venue does not trade.
 */

import { parseDecimal } from '../../src/domain/decimal.ts'
import type { Instrument } from '../../src/domain/instruments.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import type { Policy } from '../../src/domain/accounts.ts'
import type { Trace } from './trace.ts'

const AMOUNT_FIELDS = new Set(['maxOrderNotional', 'tickSize', 'lotSize', 'minQty', 'maxQty', 'minNotional'])

function patched<T extends object>(base: T, patch: Record<string, unknown>): T {
  const next: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [field, value] of Object.entries(patch)) {
    if (!(field in base)) throw new Error(`config patch names unknown field ${field}`)
    next[field] = AMOUNT_FIELDS.has(field) && typeof value === 'string' ? parseDecimal(value) : value
  }
  return next as T
}

export function configureFor(config: Trace['config']): ((base: KernelConfig) => KernelConfig) | undefined {
  if (config === undefined) return undefined
  return (base) => {
    const key = (instrument: Instrument): string => `${instrument.venue}:${instrument.symbol}`
    const instruments = base.instruments.map((instrument) => {
      const patch = config.instruments?.[key(instrument)]
      return patch === undefined ? instrument : patched(instrument, patch)
    })
    const added: Instrument[] = (config.addInstruments ?? []).map((extra) => {
      const like = instruments.find((instrument) => key(instrument) === extra.like)
      if (like === undefined) throw new Error(`addInstruments: no instrument ${extra.like} to copy`)
      return { ...like, symbol: extra.symbol, baseAsset: extra.baseAsset }
    })
    const policies = base.policies.map((policy): Policy => {
      const withAdded = { ...policy, instruments: [...policy.instruments, ...added.map(key)] }
      const patch = config.policies?.[policy.accountId]
      return patch === undefined ? withAdded : patched(withAdded, patch)
    })
    return { ...base, instruments: [...instruments, ...added], policies }
  }
}
