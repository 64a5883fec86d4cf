/**
 * Order lists (spec 004 §3 compound/): OCO intake (place-list.ts), the kernel's sibling cancel when a leg executes or
 * ends (follow-ups.ts), the cancel of a leg of a fired list that comes back live (revived-legs.ts), the repair of
 * both at a start after a torn log tail (torn-lists.ts), and the lists' projection (apply-list.ts). See
 * src/domain/order-lists.ts.
 */

export { applyOrderListEvent, noteLegEvent } from './apply-list.ts'
export { firedListOf } from './fired-list.ts'
export { withListFollowUps } from './follow-ups.ts'
export { withRevivedLegsCanceled } from './revived-legs.ts'
export { withTornListsFired } from './torn-lists.ts'
export { decidePlaceList, legKeyOf, listIdFor, LIST_KEY_CHARS_MAX } from './place-list.ts'
export { heldListIdOf } from './list-keys.ts'
