/**
 * `egress version`: the release version (package.json), the commit this build records in the log and where that came
 * from (build-info.ts), and the Bun runtime. The last line is one JSON object, for scripts and the smoke test.
 */

import packageJson from '../../package.json' with { type: 'json' }
import { currentBuild } from './build-info.ts'
import { EXIT_OK, parseOptions, UsageError, type CliIo, type Command } from './command.ts'

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the version, the build commit it records and the Bun version',
  help: `Usage: egress version

Prints the version, the commit this build records in every decision record, where that commit came from, and the
Bun version; the last line is the same as one JSON object:
  {"version":"…","commit":"…","dirty":false,"commit_source":"embedded","recorded_commit":"…","bun":"…"}
commit_source: embedded (a binary built by "bun run build": the commit it was built from; EGRESS_BUILD_COMMIT cannot
change it), git (run from a checkout: its HEAD), env (no git: EGRESS_BUILD_COMMIT), none ("dev").
recorded_commit is the commit with "+dirty" when tracked files differed from it.

Options:
  --help   show this help`,
  run: runVersion,
}

async function runVersion(argv: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseOptions(argv, {})
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  const { info, warning } = currentBuild(io.env)
  if (warning !== null) io.err(`warning: ${warning}`)
  io.out(`egress ${packageJson.version}`)
  io.out(`commit ${info.recorded} (${info.source})`)
  io.out(`bun ${Bun.version}`)
  io.out(JSON.stringify({ version: packageJson.version, commit: info.commit, dirty: info.dirty, commit_source: info.source, recorded_commit: info.recorded, bun: Bun.version }))
  return EXIT_OK
}
