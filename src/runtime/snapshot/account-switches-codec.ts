/**
 * Format 25's accounts stopped on their own (src/kernel/account-switch.ts) in the kernel section: account id → its
 * switch, who engaged it, when, and its note.
 */

import type { AccountSwitch } from '../../kernel/state.ts'
import { mapOf, num, oneOf, record, str } from './codec-kit.ts'

const accountSwitch = record<AccountSwitch>('AccountSwitch', { switch: oneOf(['halted', 'cancel_only'] as const), principalId: str, atMs: num, note: str })

export const accountSwitchesCodec = mapOf(accountSwitch)
