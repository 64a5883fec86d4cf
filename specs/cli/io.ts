/** A CliIo that records output, for running commands in-process. */

import { runCli, type CliIo } from '../../src/cli/index.ts'

export interface RecordingIo extends CliIo {
  stdout: string[]
  stderr: string[]
}

export function recordingIo(env: Record<string, string | undefined> = {}): RecordingIo {
  const stdout: string[] = []
  const stderr: string[] = []
  return { stdout, stderr, env, out: (text) => stdout.push(text), err: (text) => stderr.push(text) }
}

/** Runs the CLI in-process on `argv`: its exit code and what it printed, each stream joined by lines. */
export async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = recordingIo({})
  const code = await runCli(argv, io)
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') }
}
