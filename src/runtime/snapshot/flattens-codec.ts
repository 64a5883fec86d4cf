/**
 * The held flatten answers (src/kernel/flatten-held.ts) in the kernel section: per account, in its insertion order
 * (oldest first: the order they are dropped in), flatten id → its first answer. Format 25's holdings not closed carry
 * their reason (absent: no instrument trades the asset); format 24's had none (every holding it named was such a one).
 */

import { REASON_CODES } from '../../domain/reasons.ts'
import type { FlattenNotClosed, HeldFlatten } from '../../kernel/state.ts'
import { absentOr, arrayOf, big, mapOf, num, oneOf, record, str } from './codec-kit.ts'

const notClosed = record<FlattenNotClosed>('NotClosed', { asset: str, qty: big, reason: absentOr(oneOf(REASON_CODES, 'reason')) })

const heldFlatten = record<HeldFlatten>('HeldFlatten', { lsn: num, notClosed: arrayOf(notClosed), decidedAtMs: num })

export const flattensCodec = mapOf(mapOf(heldFlatten))

/** A format 24 holding not closed: no reason, read as absent (INSTRUMENT_UNKNOWN, as replaying its log gives). */
const notClosedV24 = record<Omit<FlattenNotClosed, 'reason'>>('NotClosed', { asset: str, qty: big })

const heldFlattenV24 = record<HeldFlatten>('HeldFlatten', { lsn: num, notClosed: arrayOf(notClosedV24), decidedAtMs: num })

/** Format 24's held answers: read only (state-codec.ts kernelStateV24). */
export const flattensCodecV24 = mapOf(mapOf(heldFlattenV24))
