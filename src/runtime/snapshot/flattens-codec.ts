/**
 * Format 24's held flatten answers (src/kernel/flatten-held.ts) in the kernel section: per account, in its insertion
 * order (oldest first: the order they are dropped in), flatten id → its first answer.
 */

import type { HeldFlatten } from '../../kernel/state.ts'
import { arrayOf, big, mapOf, num, record, str } from './codec-kit.ts'

const notClosed = record<HeldFlatten['notClosed'][number]>('NotClosed', { asset: str, qty: big })

const heldFlatten = record<HeldFlatten>('HeldFlatten', { lsn: num, notClosed: arrayOf(notClosed), decidedAtMs: num })

export const flattensCodec = mapOf(mapOf(heldFlatten))
