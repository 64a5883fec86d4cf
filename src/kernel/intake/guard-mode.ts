/**
 * Guard 3 — mode. Kill switches first (HALT and CANCEL_ONLY accept nothing new), the gateway's, then the account's own
 * (account-switch.ts: ACCOUNT_HALTED, ACCOUNT_CANCEL_ONLY; its inputs name it only when it is engaged, so the decision
 * record of an order of an account not stopped is as it was). Then, only when the gateway is
 * live, the live prerequisites in the §5 order: config (the running config is the recorded one) → permission
 * (account policy and principal allow live) → key (credential present) → environment marker → HA role (leader).
 */

import type { Policy, Principal } from '../../domain/accounts.ts'
import type { LiveReadiness } from '../commands.ts'
import type { KernelState } from '../state.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'

export function modeGuard(
  state: KernelState,
  input: { principal: Principal; policy: Policy; live: LiveReadiness; configDigest: string },
): GuardResult<null> {
  const inputs = { mode: state.mode, tradingSwitch: state.tradingSwitch }
  if (state.tradingSwitch === 'halted') return failed('MODE_HALTED', inputs)
  if (state.tradingSwitch === 'cancel_only') return failed('MODE_CANCEL_ONLY', inputs)
  const accountSwitch = state.accountSwitches.get(input.policy.accountId)?.switch
  if (accountSwitch !== undefined) return failed(accountSwitch === 'halted' ? 'ACCOUNT_HALTED' : 'ACCOUNT_CANCEL_ONLY', { ...inputs, accountSwitch })
  if (state.mode !== 'live') return passed(null, inputs)
  const liveInputs = {
    ...inputs,
    configDigest: input.configDigest,
    recordedConfigDigest: state.config?.digest ?? null,
    policyLiveAllowed: input.policy.liveAllowed,
    principalLiveAllowed: input.principal.liveAllowed,
    credentialPresent: input.live.credentialPresent,
    environmentLive: input.live.environmentLive,
    haLeader: input.live.haLeader,
  }
  if (state.config === null || input.configDigest !== state.config.digest) return failed('CONFIG_DIGEST_MISMATCH', liveInputs)
  if (!input.policy.liveAllowed || !input.principal.liveAllowed) return failed('LIVE_NOT_PERMITTED', liveInputs)
  if (!input.live.credentialPresent || !input.live.environmentLive || !input.live.haLeader) return failed('LIVE_NOT_READY', liveInputs)
  return passed(null, liveInputs)
}
