// Seed 004 §16 I-101: an index from each section of the spec to the modules that implement it, the records (data)
// that carry it, and the specs that prove it; §17 asks that the DoD's checks be tied to it. The README's "Spec index"
// is that index. Before, there was none: a reader had to search the code for § numbers in comments. This spec keeps it
// whole and true: one row per section 1–17, in order, each naming modules that exist, and each either naming the specs
// (or scripts) that prove it — files that exist — or saying `none` and why.
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '../..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const SEED_SECTIONS = 17

/** The lines of the README section whose heading starts with `## Spec index`, up to the next `## ` heading. */
function indexSection(): string[] {
  const lines = README.split('\n')
  const start = lines.findIndex((line) => line.startsWith('## Spec index'))
  if (start < 0) return []
  const end = lines.findIndex((line, index) => index > start && line.startsWith('## '))
  return lines.slice(start + 1, end < 0 ? lines.length : end)
}

interface Row {
  section: number
  modules: string
  proof: string
}

/** The table's rows: `| §N … | requirement | modules | data | proof |`. */
function rows(): Row[] {
  const found: Row[] = []
  for (const line of indexSection()) {
    const cells = line.split('|').map((cell) => cell.trim())
    const match = /^§(\d+)\b/.exec(cells[1] ?? '')
    if (match === null || cells.length < 7) continue
    found.push({ section: Number(match[1]), modules: cells[3] ?? '', proof: cells[5] ?? '' })
  }
  return found
}

/** Repository paths in backticks: `src/…`, `wal/…`, `specs/…`, `scripts/…` (a trailing `/` names a folder). */
function pathsIn(text: string): string[] {
  return [...text.matchAll(/`((?:src|wal|specs|scripts)\/[^`\s]*)`/g)].map((match) => match[1] as string)
}

describe('spec index (seed 004 §16 I-101)', () => {
  test('the README has one row for each section of the spec, 1 to 17, in order', () => {
    expect(rows().map((row) => row.section)).toEqual(Array.from({ length: SEED_SECTIONS }, (_, index) => index + 1))
  })

  test('every row names the modules that implement its section, and they exist', () => {
    const problems: string[] = []
    for (const row of rows()) {
      const paths = pathsIn(row.modules)
      if (paths.length === 0) problems.push(`§${row.section}: no module named`)
      for (const path of paths) if (!existsSync(join(ROOT, path))) problems.push(`§${row.section}: ${path} does not exist`)
    }
    expect(problems).toEqual([])
  })

  test('every row names the specs or scripts that prove it (and they exist), or says none and why', () => {
    const problems: string[] = []
    for (const row of rows()) {
      const paths = pathsIn(row.proof)
      if (paths.length === 0 && !/^none\b.{8,}/.test(row.proof)) problems.push(`§${row.section}: no proof named and no reason given`)
      for (const path of paths) {
        if (!path.startsWith('specs/') && !path.startsWith('scripts/')) problems.push(`§${row.section}: proof ${path} is not a spec or script`)
        else if (!existsSync(join(ROOT, path))) problems.push(`§${row.section}: ${path} does not exist`)
      }
    }
    expect(problems).toEqual([])
  })
})
