/**
 * The paper-mode world egress starts with on its embedded defaults: the sim venue's instruments with opening prices,
 * a policy per demo account (limit orders on every sim instrument, market orders off — §14 safe defaults — unless the
 * config sets the account's policy: PaperAccount.policy), and the funding of those accounts. serve, the simulation and the end-to-end tests all build on this one definition.
 */

import type { Policy, PolicySettings } from '../domain/accounts.ts'
import { parseDecimal, type Units } from '../domain/decimal.ts'
import { instrumentKey, defaultSimInstruments, type Instrument } from '../domain/instruments.ts'
import { defaultKernelConfig, type KernelConfig, type KernelParams } from '../domain/kernel-config.ts'
import type { SimInstrument } from '../venues/sim/index.ts'
import type { KernelState } from '../kernel/index.ts'
import { fundsAtStart, type Funding } from './bootstrap.ts'

/** Opening reference prices of the sim venue's default instruments. */
export const SIM_OPENING_PRICES: Readonly<Record<string, string>> = { 'BTC-USD': '60000', 'ETH-USD': '3000', AAPL: '200' }

/**
 * The sim venue's view of the kernel's instruments: the same tick, lot and size rules (the venue refuses what they
 * refuse, as a real venue would: sim/size-check.ts), and where each price walk starts.
 */
export function simInstrumentsFor(instruments: Instrument[]): SimInstrument[] {
  return instruments.map((instrument) => ({
    symbol: instrument.symbol,
    baseAsset: instrument.baseAsset,
    quoteAsset: instrument.quoteAsset,
    tick: instrument.tickSize,
    lot: instrument.lotSize,
    initialPrice: parseDecimal(SIM_OPENING_PRICES[instrument.symbol] ?? '100'),
    minQty: instrument.minQty,
    maxQty: instrument.maxQty,
    minNotional: instrument.minNotional,
  }))
}

export interface PaperAccount {
  accountId: string
  balances: Record<string, string>
  /** The config's policy settings for the account (src/config/policy.ts); each field it leaves out keeps paperPolicy's. */
  policy?: PolicySettings
}

/**
 * The account's policy: `settings` over the paper defaults. Without settings it is the policy every account had
 * before policies were configurable (no newOrdersBy: every trading principal may place), plus self-trade prevention
 * on (`selfTrade: "reject"`), always written out: a policy recorded without the field is an older build's, which had
 * no such check (src/domain/accounts.ts), so this build records the value it decides with.
 */
export function paperPolicy(accountId: string, instruments: Instrument[], validUntilMs: number, settings: PolicySettings = {}): Policy {
  return {
    accountId,
    instruments: instruments.map((instrument) => instrumentKey(instrument.venue, instrument.symbol)),
    marketOrderInstruments: [],
    maxOrderNotional: parseDecimal('1000000'),
    maxOpenOrders: 1000,
    liveAllowed: false,
    validFromMs: 0,
    validUntilMs,
    selfTrade: 'reject',
    ...settings,
  }
}

export function paperKernelConfig(options: {
  accounts: PaperAccount[]
  digest: string
  params?: Partial<KernelParams>
  instruments?: Instrument[]
}): KernelConfig {
  const instruments = options.instruments ?? defaultSimInstruments()
  // Paper policies do not expire within any realistic run; live policies carry real validity windows.
  const policies = options.accounts.map((account) => paperPolicy(account.accountId, instruments, 8_640_000_000_000_000, account.policy))
  const base = defaultKernelConfig({ instruments, policies, digest: options.digest })
  return { ...base, params: { ...base.params, ...options.params } }
}

/**
 * The paper accounts' fundings as the in-process sim venue's deposits (SimVenueOptions.deposits): held at the venue,
 * so a reduce-only sell may close them (a flatten does), though the sim reports only what trading moved.
 */
export function simDepositsOf(accounts: readonly PaperAccount[]): Record<string, Record<string, Units>> {
  return Object.fromEntries(
    accounts.map((account) => [account.accountId, Object.fromEntries(Object.entries(account.balances).map(([asset, amount]) => [asset, parseDecimal(amount) as Units]))]),
  )
}

/**
 * The in-process sim's deposits for a start on a log that has run before: what the log funded, plus the config's
 * fundings this start's bootstrap will record (an account or asset new to the log: bootstrap.ts fundsAtStart). Not
 * the config's amounts (simDepositsOf): bootstrap funds an opening balance once, so after the config lowered one (BTC
 * 10 → 1) or dropped an account, the kernel still held the 10 BTC it funded while the sim counted 1, and refused
 * every reduce-only sell past it — a flatten's close of the account's position — as reduce_only_would_increase.
 * `logFundings`: every funding the log recorded (the back office's postings to its funding book).
 */
export function simDepositsAtRestart(accounts: readonly PaperAccount[], state: KernelState, logFundings: readonly Funding[]): Record<string, Record<string, Units>> {
  const deposits: Record<string, Record<string, Units>> = {}
  const add = (funding: Funding): void => {
    const assets = (deposits[funding.accountId] ??= {})
    assets[funding.asset] = (assets[funding.asset] ?? 0n) + funding.amount
  }
  for (const funding of logFundings) add(funding)
  for (const funding of paperFundings([...accounts])) if (fundsAtStart(state, funding)) add(funding)
  return deposits
}

export function paperFundings(accounts: PaperAccount[]): Funding[] {
  return accounts.flatMap((account) =>
    Object.entries(account.balances).map(([asset, amount]) => ({ accountId: account.accountId, asset, amount: parseDecimal(amount) as Units })),
  )
}
