/**
 * Every record type the kernel produces or consumes, as valibot schemas. The schemas are the single source of truth:
 * the TypeScript event types are inferred from them (types.ts), and decodeEvent validates every payload with them.
 * Each event carries `atMs`, the time of the command that caused it (the kernel reads no clock).
 *
 * The schemas live by family in the *-schemas.ts files beside this one (their shared members in record-parts.ts);
 * EVENT_SCHEMAS puts them together. Its key order, and each schema's member order, is part of the log format: the
 * binary layouts are derived from the schemas in that order (specs/domain/events/layout-pin.test.ts pins them), so a
 * family's records stay one run here, in the order they always had.
 */

import { AMEND_EVENT_SCHEMAS } from './amend-schemas.ts'
import { AUTH_EVENT_SCHEMAS } from './auth-schemas.ts'
import { CONTROL_EVENT_SCHEMAS } from './control-schemas.ts'
import { EXECUTION_EVENT_SCHEMAS } from './execution-schemas.ts'
import { INBOX_EVENT_SCHEMAS } from './inbox-schemas.ts'
import { ORDER_LIST_EVENT_SCHEMAS } from './order-list-schemas.ts'
import { ORDER_EVENT_SCHEMAS } from './order-schemas.ts'
import { OUTCOME_EVENT_SCHEMAS } from './outcome-schemas.ts'
import { RECOVERY_EVENT_SCHEMAS } from './recovery-schemas.ts'
import { VENUE_EVENT_SCHEMAS } from './venue-schemas.ts'

export const EVENT_SCHEMAS = {
  ...CONTROL_EVENT_SCHEMAS,
  ...VENUE_EVENT_SCHEMAS,
  ...AUTH_EVENT_SCHEMAS,
  ...ORDER_EVENT_SCHEMAS,
  ...AMEND_EVENT_SCHEMAS,
  ...OUTCOME_EVENT_SCHEMAS,
  ...EXECUTION_EVENT_SCHEMAS,
  ...RECOVERY_EVENT_SCHEMAS,
  ...INBOX_EVENT_SCHEMAS,
  ...ORDER_LIST_EVENT_SCHEMAS,
} as const
