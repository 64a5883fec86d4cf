/**
 * cli/ — the `egress` command dispatcher. `runCli` parses the command name, handles `--help` everywhere, runs the
 * command and turns any failure into one line on stderr and a non-zero exit code (1 failure, 2 usage).
 */

import { ConfigError } from '../config/index.ts'
import { auditCommand } from './audit.ts'
import { backupCommand } from './backup.ts'
import { EXIT_DATA_ERROR, EXIT_FAILURE, EXIT_IO_ERROR, EXIT_OK, EXIT_USAGE, UsageError, type CliIo, type Command } from './command.ts'
import { keygenCommand } from './keygen.ts'
import { compactCommand } from './compact.ts'
import { simVenueCommand } from './sim-venue.ts'
import { repairTailCommand } from './repair-tail.ts'
import { replayVerifyCommand } from './replay-verify.ts'
import { snapshotCommand } from './snapshot.ts'
import { serveCommand } from './serve.ts'
import { tokenCommand } from './token.ts'
import { versionCommand } from './version.ts'

export { EXIT_DATA_ERROR, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './command.ts'
export type { CliIo, Command } from './command.ts'

export const COMMANDS: readonly Command[] = [
  serveCommand, replayVerifyCommand, auditCommand, snapshotCommand, compactCommand, repairTailCommand, backupCommand, tokenCommand,
  keygenCommand, simVenueCommand, versionCommand,
]

/** What an exit status means, whichever command returned it (some commands' --help say more). */
const EXIT_CODES = `Exit codes (every command):
  ${EXIT_OK}   done
  ${EXIT_FAILURE}   could not run or refused: a bad config (the field named on stderr), a missing or locked data dir, …
  ${EXIT_USAGE}   wrong usage: an unknown command or option, a bad or repeated option value
  ${EXIT_DATA_ERROR}  a problem found in the data (audit verify, replay-verify, compact, repair-tail; backup: the source's)
  ${EXIT_IO_ERROR}  a write or fsync failed (serve, an HA node: restart it, it recovers from the log; backup: a local write, no DIR made)`

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length))
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`)
  return `Usage: egress COMMAND [OPTIONS]\n\nCommands:\n${lines.join('\n')}\n\n${EXIT_CODES}\n\nRun "egress COMMAND --help" for a command's options.`
}

const isHelp = (arg: string): boolean => arg === '--help' || arg === '-h'

/** Runs one CLI invocation (`argv` without the program name); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    io.err(overview())
    return EXIT_USAGE
  }
  if (isHelp(name) || (name === 'help' && rest.length === 0)) {
    io.out(overview())
    return EXIT_OK
  }
  const target = name === 'help' ? rest[0] : name
  const command = COMMANDS.find((candidate) => candidate.name === target)
  if (command === undefined) {
    io.err(`egress: unknown command ${JSON.stringify(target)}; run "egress --help" for the list`)
    return EXIT_USAGE
  }
  if (name === 'help' || rest.some(isHelp)) {
    io.out(command.help)
    return EXIT_OK
  }
  return runCommand(command, rest, io)
}

async function runCommand(command: Command, argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await command.run(argv, io)
  } catch (error) {
    const prefix = `egress ${command.name}:`
    if (error instanceof UsageError) {
      io.err(oneLine(`${prefix} ${error.message} (see "egress ${command.name} --help")`))
      return EXIT_USAGE
    }
    if (error instanceof ConfigError) {
      io.err(oneLine(`${prefix} config: ${error.message}`))
      return EXIT_FAILURE
    }
    io.err(oneLine(`${prefix} ${error instanceof Error ? withCode(error) : String(error)}`))
    return EXIT_FAILURE
  }
}

/**
 * A project error's stable code (LOG_LOCKED, …: an underscore, unlike errno's ENOENT; not Node's ERR_* or SQLite's
 * SQLITE_*), said first where its text lacks it.
 */
const STABLE_CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/

/**
 * The error's message, led by its stable code when the message does not say it: a log or data dir held by a running
 * gateway (WalLockedError) was refused as "the log in … is open in another process", without the LOG_LOCKED that
 * the help texts and the README name, for a script or a runbook to match.
 */
function withCode(error: Error): string {
  const code = (error as { code?: unknown }).code
  const ours = typeof code === 'string' && STABLE_CODE.test(code) && !/^(ERR|SQLITE)_/.test(code)
  return ours && !error.message.includes(code) ? `${code}: ${error.message}` : error.message
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}
