/**
 * Duplicate member names in a JSON text. JSON.parse keeps the last of `{"qty":"1","qty":"100"}` without a word, while
 * other parsers (a proxy's, an audit tap's) keep the first or refuse: the same bytes would mean two orders, and the
 * decision record would explain only the one egress picked. RFC 8259 §4 leaves such objects' meaning to the parser, so
 * egress refuses them (body.ts) instead of guessing.
 *
 * A single pass over text that JSON.parse has already accepted (so it is valid JSON): strings are skipped by their
 * escapes, and each object keeps the names it has seen. A name written with escapes (`"q\u0074y"`) is decoded
 * before it is compared, as JSON.parse would.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const COMMA = 0x2c

/** Names an object keeps in an array (faster for an order body's few); past it, in a Set (no quadratic scan). */
const NAMES_IN_ARRAY_MAX = 16

/** An open object's names so far (and whether a name comes next), or null for an open array. */
type Level = { names: string[] | Set<string>; nameNext: boolean } | null

/** The first member name repeated within one object of `text` (valid JSON), or null when there is none. */
export function firstDuplicateMember(text: string): string | null {
  const levels: Level[] = []
  let top: Level = null
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at)
    if (code === QUOTE) {
      const end = stringEnd(text, at)
      if (top !== null && top.nameNext) {
        const raw = text.slice(at + 1, end)
        const name = raw.includes('\\') ? (JSON.parse(text.slice(at, end + 1)) as string) : raw
        if (seenBefore(top, name)) return name
        top.nameNext = false
      }
      at = end
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      levels.push(top)
      top = code === OPEN_OBJECT ? { names: [], nameNext: true } : null
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      top = levels.pop() ?? null
    } else if (code === COMMA && top !== null) {
      top.nameNext = true
    }
  }
  return null
}

/**
 * The number of members of the object `text` holds (valid JSON, an object at the top) when no member's value is an
 * object or an array — an order body — else -1. Equal to the count of keys JSON.parse gave that object, no name was
 * repeated: found without taking any name out of the text, where firstDuplicateMember makes a string of each.
 */
export function flatMemberCount(text: string): number {
  let count = 0
  let nameNext = true
  let opened = false
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at)
    if (code === QUOTE) {
      if (nameNext) count++
      nameNext = false
      at = stringEnd(text, at)
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (opened || code === OPEN_ARRAY) return -1
      opened = true
    } else if (code === COMMA) {
      nameNext = true
    }
  }
  return count
}

/** Whether `level` has `name` already; remembers it if not. */
function seenBefore(level: NonNullable<Level>, name: string): boolean {
  const names = level.names
  if (names instanceof Set) {
    if (names.has(name)) return true
    names.add(name)
    return false
  }
  if (names.includes(name)) return true
  names.push(name)
  if (names.length > NAMES_IN_ARRAY_MAX) level.names = new Set(names)
  return false
}

/** The index of the quote that closes the string opening at `start`: the next quote not escaped by a backslash. */
function stringEnd(text: string, start: number): number {
  let quote = text.indexOf('"', start + 1)
  while (quote > 0) {
    let backslashes = 0
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return quote
    quote = text.indexOf('"', quote + 1)
  }
  return text.length
}
