/**
 * JSON for the back office's in-memory state: Maps and bigints (amounts in units) survive the round trip as
 * `{"$map": [[key, value], …]}` and `{"$bigint": "123"}`. Nothing else in that state uses those keys.
 *
 * Decoding parses plainly and then converts the tags in one walk, children before parents (what a JSON.parse reviver
 * does): a reviver is called for every value and made decoding ~20 times slower than the parse itself (224 ms against
 * 12 ms for the 7.6 MB ledger of a 20k-order back-office section), which grows with every order the ledger tracks.
 */

import { isMapLike } from '../domain/map-like.ts'

/** One Map(-like) object of an encoded value whose values are written in another form: `form(value)`'s. */
export interface MapValueForm {
  map: object
  form: (value: never) => unknown
}

/**
 * `valueForm`: a Map whose values are written as `form` gives them (the section's held orders: section-orders.ts), each
 * as it is reached, so no more than one such form is alive at a time.
 */
export function encodeTagged(value: unknown, valueForm?: MapValueForm): string {
  const steps = encodeTaggedSteps(value, valueForm, Number.POSITIVE_INFINITY)
  for (let step = steps.next(); ; step = steps.next()) if (step.done === true) return step.value.join('')
}

/**
 * The same text as encodeTagged, in parts whose concatenation it is, built in steps: a Map(-like) of more than
 * `entriesPerSlice` entries is written that many [key, value] pairs at a time, a yield after each (a snapshot yields to
 * the event loop there: section.ts). Such a Map is left out of the first pass as a placeholder string, unique to this
 * call, which the parts written for it replace; the Maps inside its values are written with their pair, whole.
 */
export function* encodeTaggedSteps(value: unknown, valueForm: MapValueForm | undefined, entriesPerSlice: number): Generator<void, string[]> {
  const sliced: { map: Map<unknown, unknown>; formed: boolean }[] = []
  const mark = `$slice:${crypto.randomUUID()}:`
  // The [key, value] pairs listed for valueForm's Map: each is reached with this list as the holder (`this`).
  let formPairs: unknown[] | null = null
  const replace = (slicing: boolean) =>
    function (this: unknown, _key: string, inner: unknown): unknown {
      if (this === formPairs && valueForm !== undefined) {
        const pair = inner as [unknown, never]
        return [pair[0], valueForm.form(pair[1])]
      }
      if (typeof inner === 'bigint') return { $bigint: inner.toString() }
      if (isMapLike(inner)) {
        if (slicing && inner.size > entriesPerSlice) return `${mark}${sliced.push({ map: inner, formed: inner === valueForm?.map }) - 1}`
        const pairs = [...inner]
        if (inner === valueForm?.map) formPairs = pairs
        return { $map: pairs }
      }
      return inner
    }
  const whole = JSON.stringify(value, replace(true))
  if (sliced.length === 0) return [whole]
  yield
  const pairText = replace(false)
  const parts: string[] = []
  let rest = whole
  for (const [index, { map, formed }] of sliced.entries()) {
    const placeholder = JSON.stringify(`${mark}${index}`)
    const at = rest.indexOf(placeholder)
    parts.push(rest.slice(0, at), '{"$map":[')
    let inSlice: string[] = []
    for (const [key, inner] of map) {
      inSlice.push(JSON.stringify([key, formed ? (valueForm as MapValueForm).form(inner as never) : inner], pairText))
      if (inSlice.length < entriesPerSlice) continue
      parts.push(inSlice.join(','), ',')
      inSlice = []
      yield
    }
    if (inSlice.length > 0) parts.push(inSlice.join(','))
    else parts.pop()
    parts.push(']}')
    rest = rest.slice(at + placeholder.length)
  }
  parts.push(rest)
  return parts
}

export function decodeTagged(text: string): unknown {
  return untag(JSON.parse(text))
}

const INTEGER_TEXT = /^-?\d+$/

/** `value` with every tag below it converted (arrays and plain objects are updated in place: they are fresh from JSON.parse). */
function untag(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = untag(value[index])
    return value
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  for (const key of keys) {
    const inner = record[key]
    const converted = untag(inner)
    if (converted === inner) continue
    // JSON.parse makes every member an own data property, `__proto__` included: define that one, never assign to it.
    if (key === '__proto__') Object.defineProperty(record, key, { value: converted, writable: true, enumerable: true, configurable: true })
    else record[key] = converted
  }
  if (keys.length !== 1) return record
  const bigint = record['$bigint']
  if (keys[0] === '$bigint' && typeof bigint === 'string' && INTEGER_TEXT.test(bigint)) return BigInt(bigint)
  const pairs = record['$map']
  if (keys[0] === '$map' && Array.isArray(pairs)) return new Map(pairs as [unknown, unknown][])
  return record
}
