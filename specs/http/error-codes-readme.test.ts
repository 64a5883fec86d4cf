/**
 * The README's "Error codes" section documents every code a client can find in `error.code`: each transport code
 * (src/http/errors.ts) with its status, and each reason code of the dictionary (src/domain/reasons.ts) with the status,
 * class and meaning the dictionary gives it, row for row — so the document cannot drift from the code, and a code
 * added to either without a line in the README fails here (before, 7 transport and 61 of the 73 reason codes were in
 * no document).
 */

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REASONS } from '../../src/domain/reasons.ts'
import { ERROR_CODES } from '../../src/http/errors.ts'

const README = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8')

function section(): string {
  const start = README.indexOf('\n## Error codes')
  expect(start).toBeGreaterThan(0)
  return README.slice(start, README.indexOf('\n## ', start + 1))
}

/** Table rows whose first cell is one code in backticks: code → the other cells. */
function rows(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim())
    const code = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[0] ?? '')?.[1]
    if (code !== undefined) found.set(code, cells.slice(1))
  }
  return found
}

describe('the README error codes', () => {
  test('every transport code is listed with its status', () => {
    const listed = rows(section())
    for (const [code, status] of Object.entries(ERROR_CODES)) expect([code, listed.get(code)?.[0]]).toEqual([code, String(status)])
  })

  test('every reason code is listed with the status, class and meaning of the dictionary', () => {
    const listed = rows(section())
    for (const [code, info] of Object.entries(REASONS)) {
      expect([code, listed.get(code)]).toEqual([code, [String(info.httpStatus), info.errorClass, info.description]])
    }
  })

  test('every code the section lists in a table row is one the code has', () => {
    const known = new Set([...Object.keys(ERROR_CODES), ...Object.keys(REASONS)])
    expect([...rows(section()).keys()].filter((code) => !known.has(code))).toEqual([])
  })
})
