/**
 * Which build this process is: the commit every decision record carries (spec §9, "audit records principal, commit
 * and config digest"). Resolved once per process, first answer wins:
 *
 * 1. `embedded` — a binary built by `bun run build` (scripts/build.ts) carries the commit it was built from, and
 *    whether tracked files differed from it, as a compile-time constant. Nothing at run time changes it.
 * 2. `git` — a checkout (`bun src/main.ts …`) asks git for HEAD of the checkout this file sits in and whether its
 *    tracked files differ from it. No git, or not a git checkout, is no error: the next source answers.
 * 3. `env` — EGRESS_BUILD_COMMIT, the operator's word, for source run without git (an unpacked archive).
 * 4. `none` — `dev`.
 *
 * EGRESS_BUILD_COMMIT is therefore only a fallback: beside an embedded or git commit it is ignored (and a different
 * value is reported as a warning), so a variable cannot make a binary or a checkout claim another commit than its own.
 * A dirty tree is recorded as `<commit>+dirty`.
 */

import { spawnSync } from 'node:child_process'
import { realpathSync } from 'node:fs'
import { resolve } from 'node:path'
import * as v from 'valibot'
import { ConfigError } from '../config/index.ts'

/** The identifier scripts/build.ts defines (`bun build --define`) to the JSON of an EmbeddedBuild. */
export const EMBEDDED_BUILD_DEFINE = 'EGRESS_EMBEDDED_BUILD'
export const BUILD_COMMIT_ENV = 'EGRESS_BUILD_COMMIT'
/** What a build with no known commit records. */
export const UNKNOWN_COMMIT = 'dev'
const DIRTY_SUFFIX = '+dirty'
const GIT_TIMEOUT_MS = 5_000
/** A commit as git names it (hex, 7-64 digits: SHA-1 or SHA-256, possibly abbreviated). */
const COMMIT_PATTERN = /^[0-9a-f]{7,64}$/
/** An operator-given commit or build name: a tag or describe string too (`v1.2.0-3-gabc1234`), no spaces. */
const ENV_COMMIT_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/

// Replaced by its JSON string in a compiled binary; undeclared (typeof 'undefined') when run from source.
declare const EGRESS_EMBEDDED_BUILD: string

export type BuildSource = 'embedded' | 'git' | 'env' | 'none'

export interface SourceCommit {
  commit: string
  dirty: boolean
}

export interface BuildInfo extends SourceCommit {
  source: BuildSource
  /** What the log records as the build commit: `commit`, with `+dirty` when the tree was dirty. */
  recorded: string
}

export interface ResolvedBuild {
  info: BuildInfo
  /** Set when EGRESS_BUILD_COMMIT was given but another source answered and it differs: say so where it is seen. */
  warning: string | null
}

const embeddedSchema = v.strictObject({ commit: v.pipe(v.string(), v.regex(COMMIT_PATTERN)), dirty: v.boolean() })

/** The commit defined into this binary at build time, or null when run from source. */
export function embeddedBuild(): SourceCommit | null {
  if (typeof EGRESS_EMBEDDED_BUILD !== 'string') return null
  return parseEmbeddedBuild(EGRESS_EMBEDDED_BUILD)
}

/** Parses the defined constant; a malformed one is a broken build script, never an operator's mistake. */
export function parseEmbeddedBuild(text: string): SourceCommit {
  const parsed = v.safeParse(embeddedSchema, JSON.parse(text))
  if (!parsed.success) throw new Error(`the embedded build constant is malformed (scripts/build.ts): ${text}`)
  return parsed.output
}

/**
 * HEAD of the git checkout rooted at `rootDir`, and whether tracked files differ from it; null when git is missing,
 * fails, or `rootDir` is not the top of a checkout (source unpacked inside some other repository is not that one).
 */
export function gitCommitOf(rootDir: string): SourceCommit | null {
  const head = git(rootDir, ['rev-parse', '--show-toplevel', 'HEAD'])
  if (head === null) return null
  const [topLevel, commit] = head.trim().split('\n')
  if (topLevel === undefined || commit === undefined || !COMMIT_PATTERN.test(commit)) return null
  if (realPath(topLevel) !== realPath(rootDir)) return null
  const status = git(rootDir, ['status', '--porcelain', '--untracked-files=no'])
  if (status === null) return null
  return { commit, dirty: status.trim() !== '' }
}

/** Picks the build's commit from what each source says (see the header); `git` is asked only when needed. */
export function resolveBuild(sources: { embedded: SourceCommit | null; git: () => SourceCommit | null; envCommit: string | undefined }): ResolvedBuild {
  const envCommit = validEnvCommit(sources.envCommit)
  const found = sources.embedded !== null ? { ...sources.embedded, source: 'embedded' as const } : gitAnswer(sources.git())
  if (found === null) {
    const info = envCommit === null ? buildInfo({ commit: UNKNOWN_COMMIT, dirty: false }, 'none') : buildInfo({ commit: envCommit, dirty: false }, 'env')
    return { info, warning: null }
  }
  const info = buildInfo(found, found.source)
  const warning = envCommit !== null && envCommit !== info.recorded && envCommit !== info.commit
    ? `${BUILD_COMMIT_ENV}=${envCommit} ignored: this build is ${info.recorded} (${info.source}), which is what the log records`
    : null
  return { info, warning }
}

let cached: { embedded: SourceCommit | null; git: SourceCommit | null | undefined } | null = null

/** This process's build, from the compiled-in constant, the checkout's git, or `env` (see the header). */
export function currentBuild(env: Record<string, string | undefined>): ResolvedBuild {
  cached ??= { embedded: embeddedBuild(), git: undefined }
  const state = cached
  return resolveBuild({
    embedded: state.embedded,
    git: () => (state.git === undefined ? (state.git = gitCommitOf(checkoutRoot())) : state.git),
    envCommit: env[BUILD_COMMIT_ENV],
  })
}

/** The checkout this file belongs to when run from source (src/cli/ → the repository root). */
function checkoutRoot(): string {
  return resolve(import.meta.dir, '..', '..')
}

function gitAnswer(answer: SourceCommit | null): (SourceCommit & { source: 'git' }) | null {
  return answer === null ? null : { ...answer, source: 'git' }
}

function buildInfo(commit: SourceCommit, source: BuildSource): BuildInfo {
  return { ...commit, source, recorded: commit.dirty ? `${commit.commit}${DIRTY_SUFFIX}` : commit.commit }
}

/** EGRESS_BUILD_COMMIT checked (empty counts as unset, like every variable); a malformed value is refused. */
function validEnvCommit(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null
  if (!ENV_COMMIT_PATTERN.test(raw)) {
    throw new ConfigError([{ path: BUILD_COMMIT_ENV, message: `expected a commit or build name (letters, digits, ".", "_", "-"; at most 64), got ${JSON.stringify(raw.slice(0, 80))}` }])
  }
  return raw
}

function git(cwd: string, args: readonly string[]): string | null {
  // GIT_DIR and friends in the environment would point git at another repository than this checkout.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_')))
  const result = spawnSync('git', ['-C', cwd, ...args], { encoding: 'utf8', timeout: GIT_TIMEOUT_MS, env, stdio: ['ignore', 'pipe', 'ignore'] })
  return result.error === undefined && result.status === 0 ? result.stdout : null
}

function realPath(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return resolve(path)
  }
}
