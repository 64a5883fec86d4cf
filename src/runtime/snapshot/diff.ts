/**
 * Where two kernel states differ, for replay-verify's report: per top-level projection, the keys (order ids, accounts,
 * …) whose canonical forms differ. Bounded: at most `limit` lines.
 */

import { canonicalState, type KernelState } from '../../kernel/index.ts'
import type { JsonValue } from '../../domain/canonical-json.ts'

export function diffStates(expected: KernelState, actual: KernelState, limit = 20): string[] {
  const a = canonicalState(expected) as Record<string, JsonValue>
  const b = canonicalState(actual) as Record<string, JsonValue>
  const lines: string[] = []
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const left = a[key]
    const right = b[key]
    if (JSON.stringify(left) === JSON.stringify(right)) continue
    if (isObject(left) && isObject(right)) {
      const members = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort()
      const differing = members.filter((member) => JSON.stringify(left[member]) !== JSON.stringify(right[member]))
      const shown = differing.slice(0, 5).map((member) => `${member}${member in left ? '' : ' (only rebuilt)'}${member in right ? '' : ' (only in snapshot)'}`)
      lines.push(`${key}: ${differing.length} differ: ${shown.join(', ')}${differing.length > 5 ? ', …' : ''}`)
    } else {
      lines.push(`${key}: ${clip(JSON.stringify(left))} ≠ ${clip(JSON.stringify(right))}`)
    }
    if (lines.length >= limit) break
  }
  return lines
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function clip(text: string | undefined): string {
  const value = text ?? 'absent'
  return value.length > 80 ? `${value.slice(0, 77)}…` : value
}
