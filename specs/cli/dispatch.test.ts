import { describe, expect, test } from 'bun:test'
import { COMMANDS, runCli } from '../../src/cli/index.ts'
import { recordingIo } from './io.ts'

describe('the command dispatcher', () => {
  test('--help lists every command and exits 0', async () => {
    const io = recordingIo()
    expect(await runCli(['--help'], io)).toBe(0)
    for (const name of ['serve', 'replay-verify', 'audit', 'snapshot', 'compact', 'repair-tail', 'token', 'keygen', 'sim-venue']) {
      expect(io.stdout[0]).toContain(`  ${name} `)
    }
  })

  test('no command prints the overview to stderr and exits 2', async () => {
    const io = recordingIo()
    expect(await runCli([], io)).toBe(2)
    expect(io.stderr[0]).toStartWith('Usage: egress COMMAND')
  })

  test('every command answers --help and "help COMMAND" with its usage, exit 0', async () => {
    for (const command of COMMANDS) {
      const io = recordingIo()
      expect(await runCli([command.name, '--help'], io)).toBe(0)
      expect(io.stdout[0]).toStartWith(`Usage: egress ${command.name}`)
      const viaHelp = recordingIo()
      expect(await runCli(['help', command.name], viaHelp)).toBe(0)
      expect(viaHelp.stdout).toEqual(io.stdout)
    }
  })

  test('an unknown command is one line on stderr and exit 2', async () => {
    const io = recordingIo()
    expect(await runCli(['serv'], io)).toBe(2)
    expect(io.stderr).toEqual(['egress: unknown command "serv"; run "egress --help" for the list'])
  })

  test('sim-venue refuses a bad port with a one-line usage error, exit 2', async () => {
    const io = recordingIo()
    expect(await runCli(['sim-venue', '--port', 'x'], io)).toBe(2)
    expect(io.stderr).toHaveLength(1)
  })

  test('an unknown option is a one-line usage error, exit 2', async () => {
    const io = recordingIo()
    expect(await runCli(['token', '--sub', 'a', '--bogus'], io)).toBe(2)
    expect(io.stderr).toHaveLength(1)
    expect(io.stderr[0]).toBe(`egress token: Unknown option '--bogus' (see "egress token --help")`)
  })
})
