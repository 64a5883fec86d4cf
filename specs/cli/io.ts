/** A CliIo that records output, for running commands in-process. */

import type { CliIo } from '../../src/cli/index.ts'

export interface RecordingIo extends CliIo {
  stdout: string[]
  stderr: string[]
}

export function recordingIo(env: Record<string, string | undefined> = {}): RecordingIo {
  const stdout: string[] = []
  const stderr: string[] = []
  return { stdout, stderr, env, out: (text) => stdout.push(text), err: (text) => stderr.push(text) }
}
