/**
 * Domain values as API JSON: bigint amounts become canonical decimal strings (never JSON numbers), Maps and Sets
 * become objects and arrays. One function so every route and stream renders amounts the same way.
 */

import { toCanonical, type JsonValue } from '../../domain/canonical-json.ts'

export function apiJson(value: unknown): JsonValue {
  return toCanonical(value)
}
