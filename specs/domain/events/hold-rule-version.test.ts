/**
 * kernel.hold_rule_adopted is written at version 4 since it carries hold rule 2 (src/kernel/reservations.ts
 * HOLD_RULE_GRACE; registry.ts VERSIONS_RAISED), with version 3's layout. The build before read any rule but 1 as no
 * hold rule: given a log of this build it replayed its synthetic fills holding nothing (a state other than the one
 * decided: 0 USD reserved where 50 were) and, as a standby, followed such a leader. At version 4 that build stops at
 * the record ('this binary understands versions 1..3') and a leader refuses it as a standby (STANDBY_TOO_OLD).
 */

import { expect, test } from 'bun:test'
import { decodeEvent, encodeEvent, type DomainEvent } from '../../../src/domain/events/index.ts'
import { decodeTrustedEvent } from '../../../src/domain/events/trusted-decode.ts'
import { EVENT_CODES } from '../../../src/domain/events/registry.ts'
import { HOLD_RULE_GRACE, HOLD_RULE_SYNTHETIC } from '../../../src/kernel/reservations.ts'
import { formatLogReads, standbyRefusal, thisBuildsLogReads } from '../../../src/runtime/ha/log-reads.ts'

const adopted = (rule: number): DomainEvent => ({ type: 'kernel.hold_rule_adopted', atMs: 1_700_000_000_000, rule })

test('hold rule 2 is written at version 4 and reads back; version 3 records (rule 1) still read, by both decoders', () => {
  const written = encodeEvent(adopted(HOLD_RULE_GRACE))
  expect(written.version).toBe(4)
  expect(decodeEvent(written)).toEqual(adopted(HOLD_RULE_GRACE))
  expect(decodeTrustedEvent(written)).toEqual(adopted(HOLD_RULE_GRACE))
  // The build before wrote rule 1 at version 3, in the same layout.
  const older = { ...encodeEvent(adopted(HOLD_RULE_SYNTHETIC)), version: 3 }
  expect(decodeEvent(older)).toEqual(adopted(HOLD_RULE_SYNTHETIC))
  expect(decodeTrustedEvent(older)).toEqual(adopted(HOLD_RULE_SYNTHETIC))
})

test('a standby of the build that read the hold rule at version 3 only is refused: it would misread rule 2', () => {
  const before = thisBuildsLogReads()
  const events = new Map(before.events)
  events.set(EVENT_CODES['kernel.hold_rule_adopted'], 3)
  const refusal = standbyRefusal(formatLogReads({ ...before, events }))
  expect(refusal?.code).toBe('STANDBY_TOO_OLD')
  expect(standbyRefusal(formatLogReads(before))).toBeNull()
})
