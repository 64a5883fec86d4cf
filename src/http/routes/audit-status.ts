/**
 * The audit self-check's progress as /health and /metrics show it: whether the log still verifies, how far the check
 * has re-derived the chain, and how many durable records it has not reached. Compaction never removes what the check
 * has not verified (src/runtime/snapshot/compact.ts), so a check that stops moving (a finding, a thread that keeps
 * failing, a machine too busy for its idle-priority thread) also stops compaction: this is where that shows.
 */

import type { HealthBody } from '../openapi/health-schema.ts'
import type { Services } from '../services.ts'

export interface AuditStatus {
  verified: boolean
  verifiedThroughLsn: number
  /** Durable records after verifiedThroughLsn. */
  unverifiedRecords: number
}

/** Null when the gateway runs no audit duty. */
export function auditStatus(services: Services): AuditStatus | null {
  const { audit, engine } = services.gateway
  if (audit === null) return null
  const verifiedThroughLsn = audit.verifiedThroughLsn
  return { verified: audit.verified, verifiedThroughLsn, unverifiedRecords: Math.max(0, engine.wal.lastLsn - verifiedThroughLsn) }
}

/** /health's `audit`, typed as the schema's (openapi/health-schema.ts): tsc fails if the two part ways. */
export function auditStatusJson(services: Services): HealthBody['audit'] {
  const status = auditStatus(services)
  return status === null ? null : { verified: status.verified, verified_through_lsn: status.verifiedThroughLsn, unverified_records: status.unverifiedRecords }
}

/**
 * egress_audit_unverified_records and egress_audit_verified, for a gateway that runs the audit duty; with an anchors file,
 * egress_audit_anchors_written_total and egress_audit_anchor_failures_total.
 */
export function registerAuditStatusMetrics(services: Services): void {
  const registry = services.metrics.registry
  // Once per registry: an app built twice over the same services (tests do) adds the metrics once.
  registry.once('audit-status', () => {
    const unverified = registry.gauge({ name: 'egress_audit_unverified_records', help: 'Durable log records the audit self-check has not re-derived yet; compaction keeps them.', labelNames: [] })
    const verified = registry.gauge({ name: 'egress_audit_verified', help: '1 while the audit self-check has found no tampering, 0 after a finding.', labelNames: [] })
    const anchorsWritten = registry.counter({ name: 'egress_audit_anchors_written_total', help: 'Anchors this process appended to the anchors file (audit.anchorsFile).', labelNames: [] })
    const anchorFailures = registry.counter({ name: 'egress_audit_anchor_failures_total', help: 'Anchors that could not be written to the anchors file; alert on any increase.', labelNames: [] })
    registry.beforeRender(() => {
      const status = auditStatus(services)
      if (status === null) return
      unverified.set(status.unverifiedRecords)
      verified.set(status.verified ? 1 : 0)
      const anchors = services.gateway.audit?.anchorCounts ?? null
      if (anchors === null) return
      anchorsWritten.advanceTo(anchors.written)
      anchorFailures.advanceTo(anchors.failures)
    })
  })
}
