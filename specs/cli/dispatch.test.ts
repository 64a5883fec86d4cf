import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { COMMANDS, EXIT_DATA_ERROR, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli } from '../../src/cli/index.ts'
import { EXIT_IO_ERROR } from '../../src/cli/command.ts'
import { recordingIo } from './io.ts'

describe('the command dispatcher', () => {
  test('--help lists every command and exits 0', async () => {
    const io = recordingIo()
    expect(await runCli(['--help'], io)).toBe(0)
    for (const name of ['serve', 'replay-verify', 'audit', 'snapshot', 'compact', 'repair-tail', 'token', 'keygen', 'sim-venue']) {
      expect(io.stdout[0]).toContain(`  ${name} `)
    }
  })

  test('--help documents every exit status a command returns', async () => {
    const io = recordingIo()
    expect(await runCli(['--help'], io)).toBe(0)
    for (const code of [EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_DATA_ERROR, EXIT_IO_ERROR]) expect(io.stdout[0]).toMatch(new RegExp(`\\n  ${code} +\\S`))
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

  test('a value option given twice is a usage error, exit 2, before anything runs: the first value was dropped silently', async () => {
    const cases: [string[], string][] = [
      [['serve', '--config', '/nonexistent/prod.json', '--config=/nonexistent/dev.json'], 'egress serve: --config given twice; give it once (see "egress serve --help")'],
      [['token', '--sub', 'alice', '--sub', 'bob', '--account', 'demo-1'], 'egress token: --sub given twice; give it once (see "egress token --help")'],
      [['snapshot', '--keep', '2', '--keep', '5', '/nonexistent'], 'egress snapshot: --keep given twice; give it once (see "egress snapshot --help")'],
    ]
    for (const [argv, line] of cases) {
      const io = recordingIo()
      expect(await runCli(argv, io)).toBe(2)
      expect(io.stderr).toEqual([line])
    }
  })

  test('a negative value is a usage error saying how a value starting with a dash is written; so written, the value is judged', async () => {
    const io = recordingIo()
    expect(await runCli(['sim-venue', '--port', '-5'], io)).toBe(2)
    expect(io.stderr).toEqual([`egress sim-venue: Option '--port' argument is ambiguous: a value starting with a dash is written --port=VALUE (see "egress sim-venue --help")`])
    const written = recordingIo()
    expect(await runCli(['sim-venue', '--port=-5'], written)).toBe(2)
    expect(written.stderr).toEqual([`egress sim-venue: --port: expected an integer between 0 and 65535, got "-5" (see "egress sim-venue --help")`])
  })

  test('sim-venue --record naming a directory is a usage error naming it, exit 2, before anything listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-record-'))
    try {
      const io = recordingIo()
      expect(await runCli(['sim-venue', '--port', '0', '--record', dir], io)).toBe(2)
      expect(io.stdout).toEqual([])
      expect(io.stderr).toEqual([`egress sim-venue: --record ${JSON.stringify(dir)}: a directory; give the path of a file (made if missing) (see "egress sim-venue --help")`])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('repeatable options and a flag given twice are still fine', async () => {
    const io = recordingIo({ EGRESS_HS256_SECRET: 'x'.repeat(32), EGRESS_DATA_DIR: '/nonexistent/egress-data' })
    expect(await runCli(['token', '--sub', 'a', '--account', 'demo-1', '--account', 'demo-2', '--role', 'trader', '--role', 'auditor'], io)).toBe(0)
    expect(io.stderr[0]).toBe('warning: account demo-2 is not in the config\'s accounts')
  })
})
