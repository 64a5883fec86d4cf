/**
 * Order lists (spec 004 §3 compound/): OCO intake (place-list.ts), the kernel's sibling cancel when a leg executes or
 * ends (follow-ups.ts), its repair at a start after a torn log tail (torn-lists.ts), and the lists' projection
 * (apply-list.ts). See src/domain/order-lists.ts.
 */

export { applyOrderListEvent, noteLegEvent } from './apply-list.ts'
export { firedListOf } from './fired-list.ts'
export { withListFollowUps } from './follow-ups.ts'
export { withTornListsFired } from './torn-lists.ts'
export { decidePlaceList, legKeyOf, listIdFor, LIST_KEY_CHARS_MAX } from './place-list.ts'
