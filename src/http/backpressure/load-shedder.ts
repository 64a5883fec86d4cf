/**
 * Backpressure for new orders (seed 004 §6, DESIGN §5): a token bucket per account, per bot and (when configured) per
 * venue×symbol, and a global bound on orders accepted for processing but not yet answered (in flight: deciding or
 * waiting for the log). A new order over
 * any of them is shed with 429 and Retry-After; cancels, flattens and kill switches never come through here, so they
 * still pass when new orders are being shed.
 *
 * Bounds: buckets are kept per key up to `bucketsMax` in least-recently-used order (bucket-table.ts); at the bound the
 * least recently used is forgotten if it has refilled completely, and otherwise a new key is shed until it has — a
 * flood of distinct keys cannot grow memory, cost a scan per request, or reset a limit a client is still under.
 */

import { BucketTable } from './bucket-table.ts'
import { TokenBucket, type BucketLimits } from './token-bucket.ts'

export interface LoadShedderOptions {
  account: BucketLimits
  bot: BucketLimits
  /** Per venue×symbol (`venue:symbol`); unset: no per-symbol bound. */
  symbol?: BucketLimits | undefined
  inFlightMax: number
  bucketsMax: number
  nowMs: () => number
}

export type ShedScope = 'global' | 'account' | 'bot' | 'symbol'

/**
 * An admitted order holds an in-flight slot until `release`. `refund` gives back the rate tokens it took, for an order
 * refused further on before it was written (the kernel's lanes, the log's queue, a closed log, a lost lease): it did
 * no work, and a client pushed back there must not also lose its place at the rate limit. Both are safe to call more
 * than once.
 */
export type Admission = { ok: true; release: () => void; refund: () => void } | { ok: false; scope: ShedScope; retryAfterSec: number }

export class LoadShedder {
  private readonly options: LoadShedderOptions
  private readonly accounts: BucketTable
  private readonly bots: BucketTable
  private readonly symbols: BucketTable | null
  private readonly slots: InFlightSlots = { held: 0 }

  constructor(options: LoadShedderOptions) {
    this.options = options
    this.accounts = new BucketTable(options.account, options.bucketsMax)
    this.bots = new BucketTable(options.bot, options.bucketsMax)
    this.symbols = options.symbol === undefined ? null : new BucketTable(options.symbol, options.bucketsMax)
  }

  get inFlight(): number {
    return this.slots.held
  }

  /** Whether instruments have buckets (config backpressure.symbol): else admit() never reads its `instrument`. */
  get limitsSymbols(): boolean {
    return this.symbols !== null
  }

  /**
   * Admits one new order for `account` (by `bot` when the caller is a bot; on `instrument`, `venue:symbol`, when it is
   * one the gateway trades), or says why not and when to retry. A refusal gives back the tokens taken before it.
   */
  admit(account: string, bot: string | null, instrument: string | null = null): Admission {
    if (this.slots.held >= this.options.inFlightMax) return { ok: false, scope: 'global', retryAfterSec: 1 }
    const nowMs = this.options.nowMs()
    const accountBucket = this.accounts.bucketOf(account, nowMs)
    if (!(accountBucket instanceof TokenBucket)) return { ok: false, scope: 'account', retryAfterSec: seconds(accountBucket.retryAfterMs) }
    const accountTake = accountBucket.take(nowMs)
    if (!accountTake.ok) return { ok: false, scope: 'account', retryAfterSec: seconds(accountTake.retryAfterMs) }
    let botBucket: TokenBucket | null = null
    if (bot !== null) {
      const found = this.bots.bucketOf(bot, nowMs)
      if (!(found instanceof TokenBucket)) {
        accountBucket.refund()
        return { ok: false, scope: 'bot', retryAfterSec: seconds(found.retryAfterMs) }
      }
      botBucket = found
      const botTake = botBucket.take(nowMs)
      if (!botTake.ok) {
        accountBucket.refund()
        return { ok: false, scope: 'bot', retryAfterSec: seconds(botTake.retryAfterMs) }
      }
    }
    let symbolBucket: TokenBucket | null = null
    if (this.symbols !== null && instrument !== null) {
      const found = this.symbols.bucketOf(instrument, nowMs)
      const symbolTake = found instanceof TokenBucket ? found.take(nowMs) : found
      if (!symbolTake.ok) {
        accountBucket.refund()
        botBucket?.refund()
        return { ok: false, scope: 'symbol', retryAfterSec: seconds(symbolTake.retryAfterMs) }
      }
      // Taken, so the lookup found (or made) the bucket.
      symbolBucket = found instanceof TokenBucket ? found : null
    }
    this.slots.held++
    return new HeldAdmission(this.slots, accountBucket, botBucket, symbolBucket)
  }
}

/**
 * An admitted order's hold on the shedder: its in-flight slot (release) and its tokens (refund), each given back once
 * however often asked. One object per order (two closures and their scope before).
 */
class HeldAdmission {
  readonly ok = true
  #released = false
  #refunded = false
  readonly #slots: InFlightSlots
  readonly #account: TokenBucket
  readonly #bot: TokenBucket | null
  readonly #symbol: TokenBucket | null

  constructor(slots: InFlightSlots, account: TokenBucket, bot: TokenBucket | null, symbol: TokenBucket | null) {
    this.#slots = slots
    this.#account = account
    this.#bot = bot
    this.#symbol = symbol
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    this.#slots.held--
  }

  refund(): void {
    if (this.#refunded) return
    this.#refunded = true
    // The buckets may have been evicted and replaced since (bucketsMax): a refund to a forgotten bucket is lost,
    // which only errs towards the limit.
    this.#account.refund()
    this.#bot?.refund()
    this.#symbol?.refund()
  }
}

/** The in-flight count, shared by the shedder and the admissions that hold its slots. */
interface InFlightSlots {
  held: number
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}
