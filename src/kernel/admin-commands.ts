/**
 * The operator's commands (decided in admin.ts): configuration, mode, kill switches and paper funding.
 */

import type { Principal } from '../domain/accounts.ts'
import type { Units } from '../domain/decimal.ts'
import type { KernelConfig } from '../domain/kernel-config.ts'
import type { KillSwitchAction, Mode } from '../domain/modes.ts'

export interface ConfigureCommand {
  kind: 'configure'
  nowMs: number
  config: KernelConfig
}

export interface SetModeCommand {
  kind: 'set_mode'
  nowMs: number
  principal: Principal
  mode: Mode
  note: string
  /**
   * The deciding build (src/cli/build-info.ts), recorded with the state's config digest on the records the command
   * writes (kernel/attribution.ts, §9). Absent in command records of leaders before it: their records have none.
   */
  buildCommit?: string
  /**
   * An escalation ends the work of at most this many orders per decision (mode-escalation.ts), so its records fit the
   * log's queue; with more, the mode is not changed yet and the command is submitted again. Absent (command records of
   * older leaders, a start's own change): all of it in one decision, as before.
   */
  ordersMax?: number
}

export interface KillSwitchCommand {
  kind: 'kill_switch'
  nowMs: number
  principal: Principal
  action: KillSwitchAction
  note: string
  /** As CancelCommand's: on switch.changed and on the records of the work the switch ends. */
  buildCommit?: string
  /**
   * One decision ends the waiting work of at most this many orders (kill-switch.ts), so its records fit the log's
   * queue: a switch engages with the first part, is asked again for the rest; RESUME lifts with the last. Absent
   * (command records of older leaders): all of it in one decision, as before.
   */
  ordersMax?: number
  /**
   * One account's own switch (account-switch.ts): the auto-stop's order_rate trip with scope `account` (HALT or
   * CANCEL_ONLY), an operator's HALT, CANCEL_ONLY (engaging it or moving it to the other) or RESUME of the account.
   * Absent: the gateway's switch (whose RESUME lifts the accounts' too).
   */
  accountId?: string
}

/** Paper funding (from config at bootstrap or by an operator). Refused in live mode: live balances come from venues. */
export interface FundCommand {
  kind: 'fund'
  nowMs: number
  principalId: string
  accountId: string
  asset: string
  amount: Units
  reference: string
  /** As CancelCommand's: on account.funded. */
  buildCommit?: string
}
