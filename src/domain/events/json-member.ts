/**
 * Cutting one member out of a JSON object's UTF-8 bytes without decoding or parsing it: restart replay leaves out the
 * parts of a record the kernel's apply never reads (an acceptance's decision record, a send's gate checks — most of
 * the bytes of the log), so neither the UTF-8 decoder nor JSON.parse ever sees them. Exact on valid JSON: the bytes
 * before the cut followed by the bytes after it parse to the same object minus that member. Every cut falls on an
 * ASCII byte (a quote, a comma or a brace), which never occurs inside a multi-byte UTF-8 sequence, so both parts
 * decode as they would inside the whole.
 *
 * It walks the outermost object member by member (keys and values skipped structurally, strings escape-aware), so a
 * match is always a top-level key. It answers null (the caller then takes the whole text) for anything it does not
 * recognise: the member absent, a value that is not an object, whitespace between tokens (JSON.stringify writes
 * none), unbalanced text.
 */

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-bytes.ts'

/** The byte range [from, to) to drop from `bytes` (a JSON object) to leave out its top-level member `name`, or null. */
export interface MemberCut {
  from: number
  to: number
}

/** A member name as the bytes that open it in JSON text (`"name":`), encoded once by memberKey. */
export interface MemberKey {
  readonly name: string
  readonly bytes: Uint8Array
}

export function memberKey(name: string): MemberKey {
  return { name, bytes: new TextEncoder().encode(JSON.stringify(name) + ':') }
}

export function topLevelMemberCut(bytes: Uint8Array, member: MemberKey): MemberCut | null {
  const key = member.bytes
  const length = bytes.length
  if (bytes[0] !== OPEN_BRACE) return null
  let memberAt = 1
  while (memberAt < length && bytes[memberAt] === QUOTE) {
    if (startsWith(bytes, memberAt, key)) {
      const valueAt = memberAt + key.length
      if (bytes[valueAt] !== OPEN_BRACE) return null
      const valueEnd = endOfContainer(bytes, valueAt)
      if (valueEnd < 0) return null
      // Drop the member and one comma next to it: the one after it, or, for the last member, the one before it.
      if (bytes[valueEnd] === COMMA) return { from: memberAt, to: valueEnd + 1 }
      if (bytes[memberAt - 1] === COMMA) return { from: memberAt - 1, to: valueEnd }
      return { from: memberAt, to: valueEnd }
    }
    const keyEnd = endOfString(bytes, memberAt)
    if (keyEnd < 0 || bytes[keyEnd] !== COLON) return null
    const valueEnd = endOfValue(bytes, keyEnd + 1)
    if (valueEnd < 0 || bytes[valueEnd] !== COMMA) return null // the end of the object (or not JSON as written)
    memberAt = valueEnd + 1
  }
  return null
}

function startsWith(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > bytes.length) return false
  for (let index = 0; index < prefix.length; index++) if (bytes[at + index] !== prefix[index]) return false
  return true
}

/** The index just after the value that starts at `at` (string, object, array or a bare literal), or -1. */
function endOfValue(bytes: Uint8Array, at: number): number {
  const first = bytes[at]
  if (first === QUOTE) return endOfString(bytes, at)
  if (first === OPEN_BRACE || first === OPEN_BRACKET) return endOfContainer(bytes, at)
  // A number, true, false or null: up to the next separator.
  let index = at
  while (index < bytes.length) {
    const code = bytes[index]
    if (code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET) return index === at ? -1 : index
    index++
  }
  return -1
}

/** The index just after the object or array that opens at `at`, or -1 if it does not close. */
function endOfContainer(bytes: Uint8Array, at: number): number {
  let depth = 0
  let index = at
  const length = bytes.length
  while (index < length) {
    const code = bytes[index]
    if (code === QUOTE) {
      index = endOfString(bytes, index)
      if (index < 0) return -1
      continue
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++
    else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--
      if (depth === 0) return index + 1
    }
    index++
  }
  return -1
}

/** The index just after the string whose opening quote is at `at`, or -1 if it does not close. */
function endOfString(bytes: Uint8Array, at: number): number {
  const length = bytes.length
  for (let index = at + 1; index < length; index++) {
    const code = bytes[index]
    if (code === QUOTE) return index + 1
    if (code === BACKSLASH) index++ // the escaped byte is never the closing quote
  }
  return -1
}
