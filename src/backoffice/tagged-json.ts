/**
 * JSON for the back office's in-memory state: Maps and bigints (amounts in units) survive the round trip as
 * `{"$map": [[key, value], …]}` and `{"$bigint": "123"}`. Nothing else in that state uses those keys.
 */

export function encodeTagged(value: unknown): string {
  return JSON.stringify(value, function replace(this: unknown, _key: string, inner: unknown): unknown {
    if (typeof inner === 'bigint') return { $bigint: inner.toString() }
    if (inner instanceof Map) return { $map: [...inner] }
    return inner
  })
}

export function decodeTagged(text: string): unknown {
  return JSON.parse(text, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner
    const record = inner as Record<string, unknown>
    const keys = Object.keys(record)
    if (keys.length !== 1) return inner
    if (keys[0] === '$bigint' && typeof record['$bigint'] === 'string' && /^-?\d+$/.test(record['$bigint'])) return BigInt(record['$bigint'])
    if (keys[0] === '$map' && Array.isArray(record['$map'])) return new Map(record['$map'] as [unknown, unknown][])
    return inner
  })
}
