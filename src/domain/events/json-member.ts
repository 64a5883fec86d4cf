/**
 * Cutting one member out of a JSON object's UTF-8 bytes without decoding or parsing it: restart replay leaves out the
 * parts of a record the kernel's apply never reads (an acceptance's decision record, a send's gate checks — most of
 * the bytes of the log), so neither the UTF-8 decoder nor JSON.parse ever sees them. Exact on valid JSON: the bytes
 * before the cut followed by the bytes after it parse to the same object minus that member. Every cut falls on an
 * ASCII byte (a quote, a comma or a brace), which never occurs inside a multi-byte UTF-8 sequence, so both parts
 * decode as they would inside the whole. Answers null (the caller then takes the whole text) for anything it does
 * not recognise — the name not found as a member of the outermost object, a value that is not an object, unbalanced
 * text.
 *
 * Why a plain search finds only keys: inside a JSON string every `"` is escaped as `\"`, so the bytes `"name":` with
 * an unescaped quote before the name can only be a key. Its depth is then checked by scanning the bytes before it.
 */

const QUOTE = 34
const BACKSLASH = 92
const COMMA = 44
const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93

/** The byte range [from, to) to drop from `bytes` (a JSON object) to leave out its top-level member `name`, or null. */
export interface MemberCut {
  from: number
  to: number
}

const keyBytesByName = new Map<string, Uint8Array>()

export function topLevelMemberCut(bytes: Uint8Array, name: string): MemberCut | null {
  const key = keyBytesFor(name)
  let keyAt = indexOfBytes(bytes, key, 0)
  while (keyAt >= 0 && depthAt(bytes, keyAt) !== 1) keyAt = indexOfBytes(bytes, key, keyAt + key.length)
  if (keyAt < 0) return null
  const valueAt = keyAt + key.length
  if (bytes[valueAt] !== OPEN_BRACE) return null
  const valueEnd = endOfContainer(bytes, valueAt)
  if (valueEnd < 0) return null
  // Drop the member and one comma next to it: the one after it, or, for the last member, the one before it.
  if (bytes[valueEnd] === COMMA) return { from: keyAt, to: valueEnd + 1 }
  if (bytes[keyAt - 1] === COMMA) return { from: keyAt - 1, to: valueEnd }
  return { from: keyAt, to: valueEnd }
}

function keyBytesFor(name: string): Uint8Array {
  let key = keyBytesByName.get(name)
  if (key === undefined) {
    key = new TextEncoder().encode(`"${name}":`)
    keyBytesByName.set(name, key)
  }
  return key
}

/** The first index ≥ `from` where `needle` (which starts with a quote) occurs in `bytes`, or -1. */
function indexOfBytes(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  const last = bytes.length - needle.length
  let at = bytes.indexOf(needle[0] as number, from)
  while (at >= 0 && at <= last) {
    let index = 1
    while (index < needle.length && bytes[at + index] === needle[index]) index++
    if (index === needle.length) return at
    at = bytes.indexOf(needle[0] as number, at + 1)
  }
  return -1
}

/**
 * Nesting depth of objects and arrays at `at` (1 = inside the outermost object), or -1 when `at` is inside a string or
 * the bytes before it are not balanced JSON structure.
 */
function depthAt(bytes: Uint8Array, at: number): number {
  let depth = 0
  let index = 0
  while (index < at) {
    const code = bytes[index]
    if (code === QUOTE) {
      index = endOfString(bytes, index)
      if (index < 0 || index > at) return -1
      continue
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++
    else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth--
    index++
  }
  return index === at ? depth : -1
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
  let quote = bytes.indexOf(QUOTE, at + 1)
  while (quote >= 0) {
    let backslashes = 0
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return quote + 1
    quote = bytes.indexOf(QUOTE, quote + 1)
  }
  return -1
}
