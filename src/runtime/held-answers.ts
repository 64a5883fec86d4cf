/**
 * The venue's answers to the executor's calls (place, cancel and amend results, and the answer the HA send gate gives
 * for a held call) on their way to the kernel. Only an answer frees its order's in-flight slot and its venue×symbol's
 * call count, so an answer the log's queue had no room for must not be dropped: dropped, the order kept a call "in
 * flight" until the next start — a cancel of it was refused for good ("a place call is already in flight"), a Sent
 * order was never read back, and each such order held one of its instrument's callsPerInstrumentMax slots (with 1, every
 * later order on the instrument waited).
 *
 * So an answer the log has no room for is held, and submitted again, in the order the answers came, when the log has
 * room (`resume`: from every executor pump, which each durable batch wakes, and on a timer while any are held); while
 * any are held, a new answer queues behind them. Submitting again is safe: a refused answer applied nothing, and an
 * answer is inbound (it sends nothing). The queue holds at most one answer per call in flight (the kernel allows one
 * call per order, and at most callsPerInstrumentMax places and amends per venue×symbol, Lane0 as many again: in-flight.ts
 * callsMaxFor); `heldMax` bounds it besides. At stop, what is held is refused with WalClosedError, as the stopping engine refuses an answer (stop-drain.ts), and a stopped
 * executor holds nothing: the orders stay in flight in the log and are read back at the next start. While an answer
 * is held, the executor does not read its order back (`holds`): the read-back's answer would be decided before it.
 */

import { WalClosedError } from '../../wal/index.ts'
import type { Clock } from '../domain/clock.ts'
import { EngineOverloadedError, type Committed } from './engine-types.ts'
import type { Engine } from './engine.ts'
import { HeldQueue } from './held-queue.ts'
import type { SendResultCommand } from './venue-send.ts'

/** Answers held for the log's room at most, by default: far above any count of calls in flight. */
export const ANSWERS_HELD_MAX = 100_000
/** While answers are held, how often the log's room is looked at besides each executor pump. */
export const ANSWER_RETRY_MS = 20

/** What an answer is: a place, cancel or amend result (venue-send.ts). */
type AnswerCommand = SendResultCommand

interface HeldAnswer {
  command: AnswerCommand
  orderId: string
  answered: PromiseWithResolvers<Committed>
}

export class HeldAnswers {
  private readonly engine: Engine
  private readonly clock: Clock
  private readonly heldMax: number
  private readonly held = new HeldQueue<HeldAnswer>()
  private readonly onHeld: () => void
  private retryCancel: (() => void) | null = null
  private stopped = false

  /** `onHeld`: told of each answer held (the executor counts them). */
  constructor(options: { engine: Engine; clock: Clock; onHeld: () => void; heldMax?: number }) {
    this.engine = options.engine
    this.clock = options.clock
    this.onHeld = options.onHeld
    this.heldMax = options.heldMax ?? ANSWERS_HELD_MAX
  }

  /** Submits `command` (an answer) to the kernel, or holds it for the log's room; resolves as Engine.submit does. */
  submit(command: AnswerCommand): Promise<Committed> {
    if (this.held.size === 0) {
      const committed = this.engine.submitIfRoom(command)
      if (committed !== null) return committed
    }
    // A stopped executor (a stop, a lost lease) holds nothing: refused as the stopping engine refuses an answer, its
    // order read back at the next start.
    if (this.stopped) return Promise.reject(new WalClosedError('the log had no room and the executor is stopped: the answer is read back at the next start'))
    if (this.held.size >= this.heldMax) return Promise.reject(new EngineOverloadedError(`${this.heldMax} venue answers wait for the log's room already`))
    const answered = Promise.withResolvers<Committed>()
    this.held.push({ command, orderId: command.orderId, answered })
    this.onHeld()
    this.armRetry()
    return answered.promise
  }

  /** Whether an answer about `orderId` waits here (its order's call is still in flight for the kernel). */
  holds(orderId: string): boolean {
    return this.held.some((answer) => answer.orderId === orderId)
  }

  /**
   * Submits held answers again, oldest first, until the log has no room for one (it stays first) or none is left. Each
   * is decided at the time it is submitted (its nowMs now), as a held report is: a decision is never dated before the
   * records the log already holds.
   */
  resume(): void {
    for (let first = this.held.first(); first !== undefined && !this.stopped; first = this.held.first()) {
      let committed: Promise<Committed> | null
      try {
        committed = this.engine.submitIfRoom({ ...first.command, nowMs: this.clock.nowMs() })
      } catch (error) {
        committed = Promise.reject(error)
      }
      if (committed === null) break
      this.held.dropFirst()
      first.answered.resolve(committed)
    }
    if (this.held.size > 0) this.armRetry()
    else {
      this.retryCancel?.()
      this.retryCancel = null
    }
  }

  /** Refuses what is held (WalClosedError: its orders are read back at the next start) and stops retrying. */
  stop(): void {
    this.stopped = true
    this.retryCancel?.()
    this.retryCancel = null
    for (const { answered } of this.held.takeAll()) answered.reject(new WalClosedError('the executor stopped while the answer waited for the log: it is read back at the next start'))
  }

  /** Lets answers in again after a stop (the executor's start). */
  start(): void {
    this.stopped = false
  }

  private armRetry(): void {
    if (this.retryCancel !== null || this.stopped) return
    this.retryCancel = this.clock.schedule(ANSWER_RETRY_MS, () => {
      this.retryCancel = null
      this.resume()
    })
  }
}
