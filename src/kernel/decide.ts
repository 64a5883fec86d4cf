/**
 * decide(state, command) → events and a reply. Pure: it reads the state and the command, never changes either,
 * reads no clock and draws no random numbers. The runtime appends the events durably, applies them, and only then
 * answers the client (or calls the venue) as the reply says.
 */

import { unreachable } from '../domain/assert.ts'
import { decideConfigure, decideFund, decideKillSwitch, decideSetMode } from './admin.ts'
import { decideResend } from './resend.ts'
import { decideAmend, decideAmendResult } from './amend/index.ts'
import { decideClearSuspects, decideMarkSuspects } from './bootstrap-suspects.ts'
import { decideCancel } from './cancel.ts'
import type { Decision, KernelCommand } from './commands.ts'
import { decideFlatten } from './flatten.ts'
import { withFlattenRecordsCounted } from './flatten-held.ts'
import { decideReport } from './inbox.ts'
import { decidePlace } from './intake/index.ts'
import { decideReconcile } from './reconcile.ts'
import { decideBootstrap, decideCancelResult, decidePlaceResult } from './results.ts'
import { decideSend } from './send.ts'
import { decideExpireStale } from './stale-at-start.ts'
import type { KernelState } from './state.ts'
import { decideRevokeToken } from './revocations.ts'
import { decidePlaceList, withListFollowUps, withRevivedLegsCanceled, withTornListsFired } from './order-lists/index.ts'
import { decideTtlExpire } from './ttl.ts'
import { decideUnheldVenueOrders } from './unheld-venue-orders.ts'
import { decideVenueHealth, decideVenueOverride, decideVenueOverrideLapse } from './venue-health.ts'

export function decide(state: KernelState, command: KernelCommand): Decision {
  // An event on a leg of an open OCO list may fire it: the sibling's cancel joins the same decision (order-lists/).
  // A leg of a fired list that venue news brings back live (an end contradicted) is canceled in that decision too.
  const decision = withRevivedLegsCanceled(state, withListFollowUps(state, decideCommand(state, command)))
  // A flatten's answer is the last record of its decision, these follow-ups included (flatten-held.ts).
  if (command.kind === 'flatten') return withFlattenRecordsCounted(decision)
  // At a start, the lists a torn log tail left fired by half (a leg's event kept, its list's firing cut) are fired.
  return command.kind === 'bootstrap' ? withTornListsFired(state, decision, command.nowMs) : decision
}

function decideCommand(state: KernelState, command: KernelCommand): Decision {
  switch (command.kind) {
    case 'place':
      return decidePlace(state, command)
    case 'place_list':
      return decidePlaceList(state, command)
    case 'cancel':
      return decideCancel(state, command)
    case 'configure':
      return decideConfigure(state, command)
    case 'set_mode':
      return decideSetMode(state, command)
    case 'kill_switch':
      return decideKillSwitch(state, command)
    case 'fund':
      return decideFund(state, command)
    case 'flatten':
      return decideFlatten(state, command)
    case 'send':
      return decideSend(state, command)
    case 'place_result':
      return decidePlaceResult(state, command)
    case 'cancel_result':
      return decideCancelResult(state, command)
    case 'amend':
      return decideAmend(state, command)
    case 'amend_result':
      return decideAmendResult(state, command)
    case 'venue_report':
      return decideReport(state, command)
    case 'reconcile_result':
      return decideReconcile(state, command)
    case 'resend':
      return decideResend(state, command)
    case 'bootstrap':
      return decideBootstrap(state, command)
    case 'mark_suspects':
      return decideMarkSuspects(state, command)
    case 'clear_suspects':
      return decideClearSuspects(state, command)
    case 'expire_stale':
      return decideExpireStale(state, command)
    case 'unheld_venue_orders':
      return decideUnheldVenueOrders(state, command)
    case 'venue_health':
      return decideVenueHealth(state, command)
    case 'venue_override':
      return decideVenueOverride(state, command)
    case 'venue_override_lapse':
      return decideVenueOverrideLapse(state, command)
    case 'revoke_token':
      return decideRevokeToken(state, command)
    case 'ttl_expire':
      return decideTtlExpire(state, command)
    default:
      return unreachable(command, 'unknown command kind')
  }
}
