/**
 * What the help texts promise about the environment and exit statuses holds for every command (review):
 *
 * - `serve --help` lists the variables that override the config: EGRESS_STORAGE_FREE_BYTES_MIN (storage.freeBytesMin)
 *   was missing, so the one place a shell user looks named every override but the disk floor's.
 * - `egress --help`'s table of exit statuses names, for 65 and 74, every command whose own help says it returns them:
 *   backup's (65 for the source's data, 74 for a local write) were left out, the table reading as if only the offline
 *   checks and serve returned them.
 */

import { expect, test } from 'bun:test'
import { CONFIG_PATH_ENV, ENV_OVERRIDES } from '../../src/config/index.ts'
import { COMMANDS, EXIT_DATA_ERROR, runCli } from '../../src/cli/index.ts'
import { EXIT_IO_ERROR } from '../../src/cli/command.ts'
import { serveCommand } from '../../src/cli/serve.ts'
import { recordingIo } from './io.ts'

test('serve --help names every environment override', () => {
  const listed = /Env overrides: ([^.]+)\./.exec(serveCommand.help.replace(/\n/g, ' '))?.[1]?.split(/,\s*/) ?? []
  expect(listed.toSorted()).toEqual([...Object.keys(ENV_OVERRIDES), CONFIG_PATH_ENV].toSorted())
})

test('the overview names, for 65 and 74, every command whose help returns them', async () => {
  const io = recordingIo()
  expect(await runCli(['--help'], io)).toBe(0)
  const lineOf = (code: number): string => io.stdout[0]?.split('\n').find((line) => line.startsWith(`  ${code} `)) ?? ''
  for (const code of [EXIT_DATA_ERROR, EXIT_IO_ERROR]) {
    const returning = COMMANDS.filter((command) => new RegExp(`\\b${code}\\b`).test(command.help.split('Exit codes:')[1] ?? '')).map((command) => command.name)
    expect(returning.length).toBeGreaterThan(0)
    expect({ code, missing: returning.filter((name) => !lineOf(code).includes(name)) }).toEqual({ code, missing: [] })
  }
})
