/**
 * The commands the README gives to type, in its fenced shell blocks — which readme-names.ts leaves out (it reads inline
 * spans) — name only CLI commands and options that exist: an operator copying the HA set-up or the drill on one
 * machine gets no "unknown option". And the README's list of the CLI's commands is the CLI's list, in both
 * directions, so a command added or removed shows here.
 */

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { COMMANDS } from '../../src/cli/index.ts'
import { README } from './readme-names.ts'

/** Every command line of the README's fenced blocks, a line ending in `\` joined with the next, comments cut. */
function commandLines(): string[] {
  const fenced = [...README.matchAll(/^[ \t]*```([a-z]*)\n([\s\S]*?)^[ \t]*```/gm)]
  const blocks = fenced.filter((match) => match[1] === '' || match[1] === 'sh').map((match) => match[2] as string)
  return blocks.flatMap((block) => block.replace(/\\\n/g, ' ').split('\n')).map((line) => line.replace(/(^|\s)#.*$/, '').trim())
}

/** Each invocation of egress on a line (`egress`, `dist/egress`, `bun src/main.ts`, `npx bun src/main.ts`): its command and options. */
function invocations(line: string): { command: string; options: string[] }[] {
  const found: { command: string; options: string[] }[] = []
  for (const match of line.matchAll(/(?:^|[\s(=$])(?:dist\/egress|egress|(?:npx )?bun src\/main\.ts) ([a-z][a-z-]*)([^|;&)]*)/g)) {
    const options = [...(match[2] as string).matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((option) => option[1] as string)
    found.push({ command: match[1] as string, options })
  }
  return found
}

describe('the README\'s shell blocks and command list', () => {
  test('every egress invocation in a fenced block names a command that exists, with options its --help names', () => {
    const seen: string[] = []
    const problems: string[] = []
    for (const line of commandLines()) {
      for (const { command, options } of invocations(line)) {
        seen.push(command)
        const known = COMMANDS.find((candidate) => candidate.name === command)
        if (known === undefined) {
          problems.push(`${line}: no command ${command}`)
          continue
        }
        for (const option of options) if (!known.help.includes(option)) problems.push(`${line}: egress ${command} --help names no ${option}`)
      }
    }
    expect(problems).toEqual([])
    // The walk finds them: the first order's token, the HA set-up and the drill on one machine.
    for (const command of ['token', 'serve', 'sim-venue']) expect({ command, seen: seen.includes(command) }).toEqual({ command, seen: true })
  })

  test('the command table lists exactly the CLI\'s commands, and npm start runs serve', () => {
    const row = /\| `bun src\/main\.ts --help` \| the CLI: ([^;|]*?);? exit codes/.exec(README)?.[1]
    expect(row).toBeDefined()
    const listed = [...(row ?? '').matchAll(/`([a-z-]+)`/g)].map((match) => match[1] as string)
    expect(listed.sort()).toEqual(COMMANDS.map((command) => command.name).sort())
    const scripts = (JSON.parse(readFileSync(join(import.meta.dir, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
    // In npm's place (exec): a SIGTERM to npm's pid reaches the gateway (stop-signals-echo.test.ts).
    expect(scripts.start).toMatch(/^exec bun src\/main\.ts serve$/)
  })
})
