/**
 * The W3C Trace Context level 1 `traceparent` parser (src/domain/trace-context.ts): what is valid, and every way a
 * value is not (the HTTP layer starts a new trace for those).
 */

import { describe, expect, test } from 'bun:test'
import { AssertionError } from '../../src/domain/assert.ts'
import { formatTraceparent, isTraceparent00, parseTraceparent, traceIdOf, traceMemberOf } from '../../src/domain/trace-context.ts'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const VALID = `00-${TRACE_ID}-${PARENT_ID}-01`

describe('parseTraceparent', () => {
  test('reads a version-00 value into its trace id, parent id and flags, and formats it back the same', () => {
    const context = parseTraceparent(VALID)
    expect(context).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, flags: '01' })
    expect(formatTraceparent(context as NonNullable<typeof context>)).toBe(VALID)
    expect(traceIdOf(VALID)).toBe(TRACE_ID)
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-00`)?.flags).toBe('00')
  })

  test('refuses absent, empty, short and long version-00 values', () => {
    expect(parseTraceparent(undefined)).toBeNull()
    expect(parseTraceparent(null)).toBeNull()
    expect(parseTraceparent('')).toBeNull()
    expect(parseTraceparent(VALID.slice(0, -1))).toBeNull()
    expect(parseTraceparent(`${VALID}0`)).toBeNull()
    expect(parseTraceparent(`${VALID}-extra`)).toBeNull() // version 00 has exactly four parts
    // Two traceparent headers, as fetch joins them: invalid, as the recommendation says.
    expect(parseTraceparent(`${VALID}, ${VALID}`)).toBeNull()
  })

  test('refuses uppercase hex, non-hex characters and misplaced dashes', () => {
    expect(parseTraceparent(VALID.toUpperCase())).toBeNull()
    expect(parseTraceparent(`00-${TRACE_ID.replace('f', 'F')}-${PARENT_ID}-01`)).toBeNull()
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-0A`)).toBeNull()
    expect(parseTraceparent(`00-${TRACE_ID.replace('4', 'g')}-${PARENT_ID}-01`)).toBeNull()
    expect(parseTraceparent(`00_${TRACE_ID}-${PARENT_ID}-01`)).toBeNull()
    expect(parseTraceparent(`00-${TRACE_ID}_${PARENT_ID}-01`)).toBeNull()
    expect(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}_01`)).toBeNull()
    expect(parseTraceparent(` ${VALID.slice(1)}`)).toBeNull()
  })

  test('refuses an all-zero trace id or parent id, and version ff', () => {
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT_ID}-01`)).toBeNull()
    expect(parseTraceparent(`00-${TRACE_ID}-${'0'.repeat(16)}-01`)).toBeNull()
    expect(parseTraceparent(`ff-${TRACE_ID}-${PARENT_ID}-01`)).toBeNull()
  })

  test('reads a higher version by its version-00 prefix when the rest starts with a dash, and refuses it otherwise', () => {
    expect(parseTraceparent(`01-${TRACE_ID}-${PARENT_ID}-01`)).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, flags: '01' })
    expect(parseTraceparent(`cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-adds`)).toEqual({ traceId: TRACE_ID, parentId: PARENT_ID, flags: '01' })
    expect(parseTraceparent(`cc-${TRACE_ID}-${PARENT_ID}-01what`)).toBeNull()
  })
})

describe('what records carry', () => {
  test('isTraceparent00 holds only for version-00 values as egress writes them', () => {
    expect(isTraceparent00(VALID)).toBe(true)
    expect(isTraceparent00(`01-${TRACE_ID}-${PARENT_ID}-01`)).toBe(false)
    expect(isTraceparent00(`${VALID}-x`)).toBe(false)
    expect(isTraceparent00(VALID.toUpperCase())).toBe(false)
  })

  test("a command's traceparent becomes the record's member; none gives none; a malformed one is a bug (AssertionError), never logged", () => {
    expect(traceMemberOf({ traceparent: VALID })).toEqual({ traceparent: VALID })
    expect(traceMemberOf({})).toEqual({})
    expect('traceparent' in traceMemberOf({})).toBe(false)
    expect(() => traceMemberOf({ traceparent: VALID.toUpperCase() })).toThrow(AssertionError)
  })
})
