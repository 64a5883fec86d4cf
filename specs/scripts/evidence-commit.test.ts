// The evidence bundle records the commit of the build it was made from: the checkout's git, with EGRESS_BUILD_COMMIT
// (or GITHUB_SHA) only where there is no git. Before, the specs recorded whatever EGRESS_BUILD_COMMIT said, over git,
// and nothing said where the commit came from.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { gitCommitOf } from '../../src/cli/build-info.ts'
import { evidenceCommit } from '../../scripts/evidence-commit.ts'

const ROOT = resolve(import.meta.dir, '../..')
const HEAD = { commit: 'a'.repeat(40), dirty: false }
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('evidenceCommit', () => {
  test('git answers: its commit, the variable ignored and said when it names another', () => {
    let asked = 0
    const git = (): typeof HEAD => (asked++, HEAD)
    expect(evidenceCommit({ git, env: { EGRESS_BUILD_COMMIT: 'b'.repeat(40) } })).toEqual({
      recorded: HEAD.commit, commit: HEAD.commit, source: 'git',
      warning: `EGRESS_BUILD_COMMIT=${'b'.repeat(40)} ignored: the checkout is ${HEAD.commit} (git), which the evidence records`,
    })
    expect(evidenceCommit({ git, env: { GITHUB_SHA: HEAD.commit } }).warning).toBeNull()
    expect(evidenceCommit({ git: () => ({ ...HEAD, dirty: true }), env: {} })).toMatchObject({ recorded: `${HEAD.commit}+dirty`, commit: HEAD.commit, source: 'git' })
    expect(asked).toBe(2)
  })

  test('no git: EGRESS_BUILD_COMMIT, else GITHUB_SHA, is the documented fallback; nothing tells: dev, source none', () => {
    expect(evidenceCommit({ git: () => null, env: { EGRESS_BUILD_COMMIT: 'v1.2.0', GITHUB_SHA: 'c'.repeat(40) } })).toEqual({ recorded: 'v1.2.0', commit: 'v1.2.0', source: 'env', warning: null })
    expect(evidenceCommit({ git: () => null, env: { EGRESS_BUILD_COMMIT: '', GITHUB_SHA: 'c'.repeat(40) } })).toMatchObject({ recorded: 'c'.repeat(40), source: 'env' })
    expect(evidenceCommit({ git: () => null, env: {} })).toEqual({ recorded: 'dev', commit: 'dev', source: 'none', warning: null })
  })
})

const checkout = gitCommitOf(ROOT)

test.skipIf(checkout === null)('scripts/evidence.ts says which source its commit came from, and an entry recorded with the variable\'s commit is stale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-evidence-'))
  dirs.push(dir)
  const claimed = 'd'.repeat(40)
  writeFileSync(join(dir, 'claimed.json'), JSON.stringify({ format: 'egress.evidence/v1', id: 'claimed', kind: 'invariant', result: 'pass', cases: 1, commit: claimed, commitSource: 'env' }))
  const ran = Bun.spawnSync([process.execPath, 'scripts/evidence.ts', '--dir', dir, '--json'], { cwd: ROOT, env: { ...process.env, EGRESS_BUILD_COMMIT: claimed } })
  const summary = JSON.parse(ran.stdout.toString()) as { commit: { commit: string; source: string }; rows: { id: string; status: string; commitSource: string }[] }
  expect(summary.commit).toEqual({ commit: `${checkout?.commit}${checkout?.dirty === true ? '+dirty' : ''}`, source: 'git' })
  expect(summary.rows.find((row) => row.id === 'claimed')).toMatchObject({ status: 'STALE', commitSource: 'env' })
  expect(ran.stderr.toString()).toContain(`EGRESS_BUILD_COMMIT=${claimed} ignored: the checkout is ${checkout?.commit}`)
})
