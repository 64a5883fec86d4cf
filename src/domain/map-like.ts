/**
 * What encoders that turn Maps into pairs (canonical JSON, tagged JSON, the snapshot codec) test for: a Map or a
 * GenerationalMap (generational-map.ts), which behaves as one without being one.
 */

import { GenerationalMap } from './generational-map.ts'

/** Whether `value` is a Map or a GenerationalMap: what encoders that turn Maps into pairs test for. */
export function isMapLike(value: unknown): value is Map<unknown, unknown> {
  return value instanceof Map || value instanceof GenerationalMap
}
