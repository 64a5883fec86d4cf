/**
 * `bun run build`: the `egress` executable with its provenance (spec §9 commit, §11 supply chain).
 *
 * 1. The commit: HEAD of this checkout and whether tracked files differ from it (git). Building from source without
 *    git (an unpacked archive) needs EGRESS_BUILD_COMMIT naming the commit that source is; with git it must agree.
 * 2. `bun build --compile` of the entry points, with that commit defined into the binary (build-info.ts
 *    EMBEDDED_BUILD_DEFINE): the binary records it in every decision record whatever its environment says.
 * 3. The check, read back: the new binary's `version` must report that commit as embedded.
 * 4. The SBOM of the runtime dependencies next to it (FILE.sbom.json, scripts/sbom.ts), naming the commit.
 *
 *   bun scripts/build.ts [--outfile FILE]     (default dist/egress)
 *
 * Progress on stderr; the last stdout line is one JSON object: binary, commit, dirty, sbom.
 */

import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { BUILD_COMMIT_ENV, EMBEDDED_BUILD_DEFINE, gitCommitOf, parseEmbeddedBuild, type SourceCommit } from '../src/cli/build-info.ts'
import { writeSbom } from './sbom.ts'

const ROOT = resolve(import.meta.dir, '..')
/** The main entry and the workers it starts (src/runtime/worker-url.ts finds them inside the binary by these paths). */
const ENTRY_POINTS = ['src/main.ts', 'src/backoffice/replay-worker.ts', 'src/audit/self-check-worker.ts', 'src/runtime/snapshot/basis-check-worker.ts'] as const
const COMPILE_FLAGS = ['--compile', '--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig'] as const
const STEP_TIMEOUT_MS = 120_000

function say(message: string): void {
  process.stderr.write(`build: ${message}\n`)
}

/** The commit to embed: git's, or the builder's EGRESS_BUILD_COMMIT where there is no git; never two that differ. */
export function commitToEmbed(git: SourceCommit | null, envCommit: string | undefined): SourceCommit {
  const given = envCommit === undefined || envCommit === '' ? null : envCommit
  if (git === null) {
    if (given === null) throw new Error(`cannot tell which commit this is (no git checkout at ${ROOT}, or no git): set ${BUILD_COMMIT_ENV} to the commit of this source`)
    // Validated as any embedded value is (hex commit), so the binary can never carry a malformed one.
    return parseEmbeddedBuild(JSON.stringify({ commit: given, dirty: false }))
  }
  if (given !== null && given !== git.commit) throw new Error(`${BUILD_COMMIT_ENV}=${given} but this checkout is at ${git.commit}: unset it, or build that commit`)
  return git
}

function run(argv: readonly string[]): string {
  const result = spawnSync(argv[0] as string, argv.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: STEP_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'inherit'] })
  if (result.error !== undefined || result.status !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} … failed (${result.error?.message ?? `exit ${result.status}`})`)
  return result.stdout
}

function main(): void {
  const { values } = parseArgs({ options: { outfile: { type: 'string' } }, strict: true })
  const outfile = resolve(ROOT, values.outfile ?? 'dist/egress')
  const build = commitToEmbed(gitCommitOf(ROOT), process.env[BUILD_COMMIT_ENV])
  say(`commit ${build.commit}${build.dirty ? ' (tracked files differ from it: recorded as +dirty)' : ''}`)
  const defined = JSON.stringify(JSON.stringify(build))
  run([process.execPath, 'build', ...ENTRY_POINTS, ...COMPILE_FLAGS, '--define', `${EMBEDDED_BUILD_DEFINE}=${defined}`, '--outfile', outfile])
  // Pair check: what the binary says it is, read back from the binary itself.
  const reported = JSON.parse(run([outfile, 'version']).trim().split('\n').at(-1) ?? '') as { commit: string; dirty: boolean; commit_source: string }
  if (reported.commit_source !== 'embedded' || reported.commit !== build.commit || reported.dirty !== build.dirty) {
    throw new Error(`the built binary reports ${JSON.stringify(reported)}, expected the embedded commit ${build.commit}`)
  }
  const sbom = `${outfile}.sbom.json`
  const components = writeSbom({ rootDir: ROOT, outPath: sbom, commit: reported.commit })
  say(`${outfile} reports commit ${build.commit} (embedded); SBOM of ${components} runtime components in ${sbom}`)
  process.stdout.write(`${JSON.stringify({ binary: outfile, commit: build.commit, dirty: build.dirty, sbom })}\n`)
}

if (import.meta.main) {
  try {
    main()
  } catch (error) {
    say(`FAILED: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  }
}
