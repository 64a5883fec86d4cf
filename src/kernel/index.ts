/**
 * The kernel: egress's deterministic core. `decide(state, command)` turns a command (with every outside fact inside
 * it) into events and a reply without changing anything; `apply(state, event, meta)` folds one event into the state.
 * It holds the intake guards in the fixed §5 order, the §7 state machine, reservations, the §6 lanes and executor
 * choice, amends (replace), the I-100 gate, the inbox and the reconciler's decisions. No I/O, no clock, no randomness — so replaying
 * the log always rebuilds the same state, which `stateDigest` proves.
 */

export { apply, applyInPlace, type ApplyMeta } from './apply.ts'
export { canonicalState, stateDigest } from './canonical-state.ts'
export type {
  AmendCommand,
  AmendResultCommand,
  BootstrapCommand,
  CancelCommand,
  CancelResultCommand,
  ClearSuspectsCommand,
  Decision,
  ExpireStaleCommand,
  FlattenCommand,
  KernelCommand,
  LiveReadiness,
  MarkSuspectsCommand,
  PlaceCommand,
  PlaceListCommand,
  PlaceResultCommand,
  ReconcileResultCommand,
  Reply,
  ResendCommand,
  RevokeTokenCommand,
  RevokeTokenRequest,
  SendCommand,
  TtlExpireCommand,
  VenueReportCommand,
} from './commands.ts'
export type { ConfigureCommand, FundCommand, KillSwitchCommand, SetModeCommand } from './admin-commands.ts'
export type { VenueHealthCommand, VenueOverrideCommand, VenueOverrideRequest } from './venue-health-commands.ts'
export { OVERRIDE_REASON_CHARS_MAX, venueHealthOf } from './venue-health.ts'
export { decide } from './decide.ts'
export { decideRevokeToken } from './revocations.ts'
export { heldListIdOf, legKeyOf, listIdFor, LIST_KEY_CHARS_MAX } from './order-lists/index.ts'
export { FLATTEN_KEY_PREFIX, flattenActs } from './flatten.ts'
export { flattenUncovered, type FlattenUncovered } from './flatten-uncovered.ts'
export { FLATTEN_CLOSES_PER_INSTRUMENT_MAX } from './flatten-close-sizes.ts'
export { FLATTENS_HELD_PER_ACCOUNT_MAX, heldFlatten } from './flatten-held.ts'
export { evaluateGate } from './gate.ts'
export { switchHolds, switchHoldText, type SwitchHoldReason } from './send.ts'
export { switchWorkLeft } from './kill-switch.ts'
export { orderIdFor, shedReason, type AdmissionLane } from './intake/index.ts'
export { keyWindowMs } from './key-window.ts'
export { notAmendable } from './amend/index.ts'
export { isOrphanReport } from './inbox.ts'
export { nextDueMs, nextWork, queueDepths, switchHoldOf, type NextWorkOptions, type WorkItem } from './lanes.ts'
export { isCancelReadBack, noteHoldChanged } from './work-index.ts'
export { retiredEarlyCount } from './retention.ts'
export { findOrderByKey, replay, unknownOrders } from './queries.ts'
export { resendable } from './reconcile.ts'
export { TTL_PRINCIPAL_ID, ttlPassed } from './ttl.ts'
export { venueFormOf, type VenueForm } from './venue-form.ts'
export { feeAllowance, heldFor, remainingAfterFill, reservationFor, syntheticHeldFor } from './reservations.ts'
export {
  availableBalance,
  cloneState,
  idempotencyIndexKey,
  initialState,
  type AccountLedger,
  type AccountSwitch,
  type CallAction,
  type FlattenNotClosed,
  type KernelState,
  type WorkKind,
} from './state.ts'
export { transition, TRANSITIONS, type TransitionName, type TransitionResult } from './state-machine.ts'
