import { describe, expect, test } from 'bun:test'
import { UNKNOWN_MEMBERS_NAMED_MAX, UnknownMembersNotice } from '../../../src/venues/jsonl/unknown-members.ts'

describe('UnknownMembersNotice', () => {
  test('each path is named once per connection; a new connection names them again', () => {
    const notice = new UnknownMembersNotice()
    expect(notice.lineFor(['a', 'a', 'touch.b'])).toEndWith(': "a", "touch.b"')
    expect(notice.lineFor(['a'])).toBeNull()
    expect(notice.lineFor([])).toBeNull()
    expect(notice.lineFor(['a', 'c'])).toEndWith(': "c"')
    notice.reset()
    expect(notice.lineFor(['a'])).toEndWith(': "a"')
  })

  test(`bounded: past ${UNKNOWN_MEMBERS_NAMED_MAX} paths on a connection, one line says the rest are not named, then nothing`, () => {
    const notice = new UnknownMembersNotice()
    const many = Array.from({ length: UNKNOWN_MEMBERS_NAMED_MAX + 5 }, (_, index) => `m${index}`)
    expect(notice.lineFor(many.slice(0, 10))).not.toBeNull()
    const line = notice.lineFor(many) ?? ''
    expect(line.startsWith('VENUE_MEMBERS_UNKNOWN: ')).toBe(true)
    expect(line).toContain(`(past ${UNKNOWN_MEMBERS_NAMED_MAX} on this connection, the rest unnamed): "m10"`)
    expect(line.length).toBeLessThan(260)
    expect(notice.lineFor(['fresh'])).toBeNull()
  })
})
