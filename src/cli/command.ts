/**
 * What every CLI command is: a name, a one-line summary, a help text and a `run` that returns an exit code.
 * Commands write through `CliIo` rather than `console`, so tests capture output without spawning a process.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util'

export interface CliIo {
  /** One line (or block) to standard output; a trailing newline is added. */
  out(text: string): void
  /** One line (or block) to standard error; a trailing newline is added. */
  err(text: string): void
  env: Record<string, string | undefined>
}

export interface Command {
  name: string
  summary: string
  /** The full `--help` text. */
  help: string
  run(argv: readonly string[], io: CliIo): Promise<number>
}

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
/** Wrong usage, or a command that is not built yet. */
export const EXIT_USAGE = 2
/** The input data is bad (sysexits EX_DATAERR): `audit verify` found a problem in the log. */
export const EXIT_DATA_ERROR = 65
/** A write or fsync failed (sysexits EX_IOERR): `serve` exits for a supervisor to restart it, which recovers. */
export const EXIT_IO_ERROR = 74

/** A mistake in how the command was called: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

type Options = NonNullable<ParseArgsConfig['options']>

/**
 * node:util parseArgs, strict, with its errors turned into one-line UsageErrors. A value option that is not repeatable
 * given twice is refused: parseArgs kept the last without a word, so `serve --config prod.json … --config dev.json`
 * ran on dev.json.
 */
export function parseOptions<const TOptions extends Options>(argv: readonly string[], options: TOptions) {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true, tokens: true })
  } catch (error) {
    // parseArgs explains at length; the first sentence is the useful part (with its advice for a value like -5).
    const message = error instanceof Error ? error.message : String(error)
    const first = message.split(/\.\s/)[0] ?? message
    const ambiguous = /^Option '(--[^']+)' argument is ambiguous$/.exec(first)
    throw new UsageError(ambiguous === null ? first : `${first}: a value starting with a dash is written ${ambiguous[1]}=VALUE`)
  }
  const seen = new Set<string>()
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || token.value === undefined || options[token.name]?.multiple === true) continue
    if (seen.has(token.name)) throw new UsageError(`--${token.name} given twice; give it once`)
    seen.add(token.name)
  }
  return { values: parsed.values, positionals: parsed.positionals }
}

/** An integer option within [min, max], or a UsageError naming the option. */
export function integerOption(name: string, raw: string | undefined, fallback: number, range: [number, number], said: { bound?: string; why?: string } = {}): number {
  if (raw === undefined) return fallback
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN
  if (!(value >= range[0] && value <= range[1])) {
    const bound = said.bound === undefined ? '' : ` (${said.bound})`
    const why = said.why === undefined ? '' : `; ${said.why}`
    throw new UsageError(`--${name}: expected an integer between ${range[0]} and ${range[1]}${bound}, got ${JSON.stringify(raw)}${why}`)
  }
  return value
}
