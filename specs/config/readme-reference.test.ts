/**
 * The README's configuration reference lists every field the config schema has and every environment variable egress
 * reads, so a field added to src/config without a word in the README fails here (before, the whole `audit` and `sse`
 * sections, most of `auth`, `wal.segmentBytesMax` and four variables were in no document).
 *
 * A field is listed by its dotted path in backticks (`auth.issuer`, `accounts[].id`) in the first cell of a row of
 * the section's table, or — for the sections documented at length elsewhere (`kernel.*`, `snapshots.*`, `venues[]`) —
 * by its own name in backticks in the row of its section.
 */

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { CONFIG_PATH_ENV, CONFIG_SCHEMA, ENV_OVERRIDES } from '../../src/config/index.ts'
import { OTHER_ENV_NAMES } from '../../src/config/env-names.ts'

const README = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8')

/** The rows of the table under "## Configuration": each row's first-cell keys and the whole row. */
function configRows(): { keys: string[]; row: string }[] {
  const start = README.indexOf('\n## Configuration')
  const end = README.indexOf('\n## ', start + 1)
  expect(start).toBeGreaterThan(0)
  return README.slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((row) => ({ keys: [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] as string), row }))
}

/** Every leaf field of a schema as a dotted path, arrays marked `[]`. */
function leafPaths(schema: v.GenericSchema, path: string, out: string[]): string[] {
  const node = unwrapped(schema) as v.GenericSchema & { type: string; item?: v.GenericSchema; options?: v.GenericSchema[]; entries?: Record<string, v.GenericSchema> }
  if (node.type === 'array' && node.item !== undefined) return leafPaths(node.item, `${path}[]`, out)
  if ((node.type === 'variant' || node.type === 'union') && node.options !== undefined) {
    for (const option of node.options) leafPaths(option, path, out)
    return out
  }
  if (node.entries !== undefined) {
    for (const [name, entry] of Object.entries(node.entries)) leafPaths(entry, path === '' ? name : `${path}.${name}`, out)
    return out
  }
  if (!out.includes(path)) out.push(path)
  return out
}

function unwrapped(schema: v.GenericSchema): v.GenericSchema {
  let node = schema as v.GenericSchema & { type: string; wrapped?: v.GenericSchema }
  while ((node.type === 'optional' || node.type === 'exact_optional' || node.type === 'nullable') && node.wrapped !== undefined) {
    node = node.wrapped as typeof node
  }
  return node
}

function documented(path: string, rows: { keys: string[]; row: string }[]): boolean {
  const name = path.split('.').at(-1)?.replace(/\[\]$/, '') ?? path
  return rows.some(({ keys, row }) =>
    keys.some((key) => {
      if (key === path) return true
      const section = key.replace(/(\.\*|\[\])$/, '')
      return section !== key && path.startsWith(section) && row.includes(`\`${name}\``)
    }),
  )
}

describe('the README configuration reference', () => {
  test('lists every field of the config schema', () => {
    const rows = configRows()
    const paths = leafPaths(CONFIG_SCHEMA, '', [])
    expect(paths.length).toBeGreaterThan(80)
    expect(paths.filter((path) => !documented(path, rows))).toEqual([])
  })

  test('names every environment variable egress reads', () => {
    const names = [...Object.keys(ENV_OVERRIDES), CONFIG_PATH_ENV, ...OTHER_ENV_NAMES]
    expect(names.filter((name) => !README.includes(`\`${name}\``))).toEqual([])
  })
})
