/**
 * Which commit the log records (src/cli/build-info.ts): the binary's embedded commit, else the checkout's git HEAD,
 * else EGRESS_BUILD_COMMIT, else "dev" — and the variable never overrides a commit known otherwise.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gitCommitOf, parseEmbeddedBuild, resolveBuild, type SourceCommit } from '../../src/cli/build-info.ts'
import { ConfigError } from '../../src/config/index.ts'

const EMBEDDED: SourceCommit = { commit: 'a'.repeat(40), dirty: false }
const GIT: SourceCommit = { commit: 'b'.repeat(40), dirty: true }
const CLAIMED = 'c'.repeat(40)
const noGit = (): SourceCommit | null => null

describe('resolveBuild', () => {
  test('a compiled binary records its embedded commit; EGRESS_BUILD_COMMIT is ignored with a warning, git not asked', () => {
    let gitAsked = false
    const { info, warning } = resolveBuild({ embedded: EMBEDDED, git: () => ((gitAsked = true), GIT), envCommit: CLAIMED })
    expect(info).toEqual({ commit: EMBEDDED.commit, dirty: false, source: 'embedded', recorded: EMBEDDED.commit })
    expect(warning).toContain(`EGRESS_BUILD_COMMIT=${CLAIMED} ignored`)
    expect(gitAsked).toBe(false)
  })

  test("a checkout records git's HEAD, +dirty when tracked files differ; the variable cannot override it", () => {
    const { info, warning } = resolveBuild({ embedded: null, git: () => GIT, envCommit: CLAIMED })
    expect(info).toEqual({ commit: GIT.commit, dirty: true, source: 'git', recorded: `${GIT.commit}+dirty` })
    expect(warning).toContain('ignored')
  })

  test('the variable naming the same commit is no warning', () => {
    expect(resolveBuild({ embedded: null, git: () => GIT, envCommit: GIT.commit }).warning).toBeNull()
    expect(resolveBuild({ embedded: EMBEDDED, git: noGit, envCommit: undefined }).warning).toBeNull()
  })

  test('without git the variable is the record (source env), without either "dev" (source none); empty is unset', () => {
    expect(resolveBuild({ embedded: null, git: noGit, envCommit: 'v1.2.0-3-gabc1234' }).info).toEqual({ commit: 'v1.2.0-3-gabc1234', dirty: false, source: 'env', recorded: 'v1.2.0-3-gabc1234' })
    expect(resolveBuild({ embedded: null, git: noGit, envCommit: undefined }).info).toEqual({ commit: 'dev', dirty: false, source: 'none', recorded: 'dev' })
    expect(resolveBuild({ embedded: null, git: noGit, envCommit: '' }).info.recorded).toBe('dev')
  })

  test('a malformed EGRESS_BUILD_COMMIT is refused as a config error naming the variable', () => {
    for (const bad of ['has space', 'x'.repeat(65), '-leading', 'a\nb']) {
      expect(() => resolveBuild({ embedded: null, git: noGit, envCommit: bad })).toThrow(ConfigError)
    }
    expect(() => resolveBuild({ embedded: EMBEDDED, git: noGit, envCommit: 'has space' })).toThrow('EGRESS_BUILD_COMMIT: expected a commit or build name')
  })

  test('the embedded constant must be a hex commit and a dirty flag, nothing else', () => {
    expect(parseEmbeddedBuild(JSON.stringify(EMBEDDED))).toEqual(EMBEDDED)
    for (const bad of [{ commit: 'dev', dirty: false }, { commit: EMBEDDED.commit }, { ...EMBEDDED, extra: 1 }]) {
      expect(() => parseEmbeddedBuild(JSON.stringify(bad))).toThrow('embedded build constant is malformed')
    }
  })
})

describe('gitCommitOf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-build-info-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const git = (cwd: string, ...args: string[]): string => {
    const result = spawnSync('git', ['-c', 'user.name=spec', '-c', 'user.email=spec@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`)
    return result.stdout.trim()
  }

  test('HEAD of a checkout, dirty once a tracked file changes (an untracked file does not count)', () => {
    const repo = join(dir, 'repo')
    mkdirSync(repo)
    git(repo, 'init', '-q')
    writeFileSync(join(repo, 'a.txt'), 'one\n')
    git(repo, 'add', 'a.txt')
    git(repo, 'commit', '-q', '-m', 'one')
    const head = git(repo, 'rev-parse', 'HEAD')
    writeFileSync(join(repo, 'untracked.txt'), 'x\n')
    expect(gitCommitOf(repo)).toEqual({ commit: head, dirty: false })
    writeFileSync(join(repo, 'a.txt'), 'two\n')
    expect(gitCommitOf(repo)).toEqual({ commit: head, dirty: true })
  })

  test('null for a directory inside another checkout (source unpacked in some repository is not that commit)', () => {
    const inner = join(dir, 'repo', 'unpacked')
    mkdirSync(inner, { recursive: true })
    expect(gitCommitOf(inner)).toBeNull()
  })

  test('null, not an error, where there is no checkout or no commit yet', () => {
    const plain = join(dir, 'plain')
    mkdirSync(plain)
    expect(gitCommitOf(plain)).toBeNull()
    const empty = join(dir, 'empty')
    mkdirSync(empty)
    git(empty, 'init', '-q')
    expect(gitCommitOf(empty)).toBeNull()
    expect(gitCommitOf(join(dir, 'missing'))).toBeNull()
  })
})
