/**
 * The commit the evidence bundle is of: the build's own (src/cli/build-info.ts resolves it the same way for a running
 * binary), never an environment variable's word over it. The specs that write the bundle and `scripts/evidence.ts`
 * that summarises it run from the checkout, so its git HEAD (with `+dirty` when tracked files differ) is the build;
 * EGRESS_BUILD_COMMIT (or CI's GITHUB_SHA) is only the fallback where there is no git checkout (an unpacked archive),
 * and a value that disagrees with git is ignored and said. Before, the specs recorded whatever EGRESS_BUILD_COMMIT said,
 * so a stale or mistyped variable made the bundle claim a commit it was not made from. Each answer says its source.
 */

import { gitCommitOf, resolveBuild, type BuildSource, type SourceCommit } from '../src/cli/build-info.ts'

export interface EvidenceCommit {
  /** The commit as recorded (`+dirty` when tracked files differed); `dev` when nothing could tell. */
  recorded: string
  /** The commit alone, what another entry's commit is compared with. */
  commit: string
  /** Where it came from: `git` (the checkout), `env` (the fallback variable), `none`. */
  source: BuildSource
  /** Set when the variable named another commit than git's: it was ignored. */
  warning: string | null
}

/** The fallback variables, first given wins: the build's own, then the one GitHub Actions sets. */
const FALLBACK_VARIABLES = ['EGRESS_BUILD_COMMIT', 'GITHUB_SHA'] as const

/** The evidence's commit from `git` (asked once, lazily) and, only without it, the environment's fallback variables. */
export function evidenceCommit(sources: { git: () => SourceCommit | null; env: Record<string, string | undefined> }): EvidenceCommit {
  const named = FALLBACK_VARIABLES.map((name) => ({ name, value: sources.env[name] })).find(({ value }) => value !== undefined && value !== '')
  const { info, warning: differs } = resolveBuild({ embedded: null, git: sources.git, envCommit: named?.value })
  const warning = differs === null || named === undefined ? null : `${named.name}=${named.value} ignored: the checkout is ${info.recorded} (${info.source}), which the evidence records`
  return { recorded: info.recorded, commit: info.commit, source: info.source, warning }
}

/** The checkout's evidence commit (git of the repository root this file is in, the process's environment). */
export function checkoutEvidenceCommit(rootDir: string): EvidenceCommit {
  return evidenceCommit({ git: () => gitCommitOf(rootDir), env: process.env })
}
