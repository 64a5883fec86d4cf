/**
 * Intake: the seven guards of §5 in their fixed order (syntax → policy → mode → data health → reservation →
 * capability/rounding → lane admission) and the idempotency index, producing `order.accepted` or `order.rejected`
 * with a decision record.
 */

export { decidePlace, orderIdFor } from './place.ts'
export { exceedsBps } from './guard-data-health.ts'
export { shedReason, type AdmissionLane } from './guard-lane.ts'
