/**
 * The order state dictionary (§7.1, §16 I-102). Defined once; everything else refers to these names.
 * The transition table itself lives in src/kernel/state-machine.ts.
 */

export const ORDER_STATES = [
  'Draft',
  'Validated',
  'Enqueued',
  'Sent',
  'AckedOpen',
  'Partial',
  'Filled',
  'CancelRequested',
  'CancelPending',
  'Canceled',
  'Rejected',
  'Expired',
  'Failed',
  'Unknown',
] as const

export type OrderState = (typeof ORDER_STATES)[number]

/** States after which the order holds no reservation and takes no new work (late fills still apply to the ledger). */
export const TERMINAL_STATES: ReadonlySet<OrderState> = new Set<OrderState>(['Filled', 'Canceled', 'Rejected', 'Expired', 'Failed'])

/** States in which the order may be live at the venue (counts toward open orders, may fill). */
export const LIVE_STATES: ReadonlySet<OrderState> = new Set<OrderState>([
  'Sent',
  'AckedOpen',
  'Partial',
  'CancelRequested',
  'CancelPending',
  'Unknown',
])

/**
 * Whether `state` is in TERMINAL_STATES. A switch rather than the Set's has(): apply asks once or twice per order
 * event, also in replay, and the Set lookup showed in profiles (specs/domain/states.test.ts holds the two equal).
 */
export function isTerminal(state: OrderState): boolean {
  switch (state) {
    case 'Filled':
    case 'Canceled':
    case 'Rejected':
    case 'Expired':
    case 'Failed':
      return true
    default:
      return false
  }
}
