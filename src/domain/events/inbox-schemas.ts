/**
 * The inbox's records of the execution reports it takes in or drops as duplicates, and the alerts the kernel
 * raises (most of them the inbox's: orphaned reports, fills going backwards or past the quantity).
 * Part of EVENT_SCHEMAS (schemas.ts), in its key order: a binary layout follows the member order.
 */

import * as v from 'valibot'
import { idSchema } from '../schema-kit.ts'
import { executionReportSchema, reasonCodeSchema } from './common.ts'
import { base } from './record-parts.ts'

export const INBOX_EVENT_SCHEMAS = {
  'inbox.report_accepted': v.strictObject({
    type: v.literal('inbox.report_accepted'),
    ...base,
    orderId: v.nullable(idSchema),
    report: executionReportSchema,
  }),
  'inbox.duplicate_dropped': v.strictObject({
    type: v.literal('inbox.duplicate_dropped'),
    ...base,
    orderId: v.nullable(idSchema),
    venue: v.string(),
    execId: v.string(),
  }),
  'alert.raised': v.strictObject({
    type: v.literal('alert.raised'),
    ...base,
    reason: reasonCodeSchema,
    orderId: v.nullable(idSchema),
    detail: v.string(),
  }),
} as const
