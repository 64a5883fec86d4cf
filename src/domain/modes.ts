/**
 * Modes and kill switches. The mode says where orders go (paper: the sim venue; shadow: nowhere, decisions only;
 * live: the real venue). The trading switch is the operator's brake, orthogonal to the mode.
 */

export const MODES = ['paper', 'shadow', 'live'] as const
export type Mode = (typeof MODES)[number]

/** §14: the safe default. Live is never a default. */
export const DEFAULT_MODE: Mode = 'paper'

/**
 * How far a mode's orders reach, least first: shadow sends nothing (decisions only), paper sends to the sim venue or
 * a test venue (a FIX test environment is used in paper mode), live sends to real venues with real money. A start
 * never moves the mode to one that reaches further than the log's (src/runtime/start-mode.ts): that takes an admin.
 */
const MODE_REACH: Readonly<Record<Mode, number>> = { shadow: 0, paper: 1, live: 2 }

/** Whether `mode`'s orders reach further than `than`'s (shadow → paper, paper → live, shadow → live). */
export function reachesFurther(mode: Mode, than: Mode): boolean {
  return MODE_REACH[mode] > MODE_REACH[than]
}

/** The mode of the two whose orders reach less (the more conservative one). */
export function leastReaching(a: Mode, b: Mode): Mode {
  return MODE_REACH[a] <= MODE_REACH[b] ? a : b
}

/**
 * normal: everything flows.
 * halted (HALT): no new orders accepted or sent; cancels and Lane0 closes (flatten) still go out.
 * cancel_only (CANCEL_ONLY): only cancels go out; even closing orders wait.
 */
export const TRADING_SWITCHES = ['normal', 'halted', 'cancel_only'] as const
export type TradingSwitch = (typeof TRADING_SWITCHES)[number]

export const KILL_SWITCH_ACTIONS = ['HALT', 'CANCEL_ONLY', 'RESUME'] as const
export type KillSwitchAction = (typeof KILL_SWITCH_ACTIONS)[number]

export function switchFor(action: KillSwitchAction): TradingSwitch {
  return action === 'HALT' ? 'halted' : action === 'CANCEL_ONLY' ? 'cancel_only' : 'normal'
}

export const LANES = [0, 1, 2, 3] as const
/** 0: cancel/close/flatten, 1: reduce-only new, 2: new/amend, 3: query/reconcile (§6). */
export type Lane = (typeof LANES)[number]
