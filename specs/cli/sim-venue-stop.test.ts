/**
 * `egress sim-venue` stops on the same signals as serve (cli/stop-signals.ts): SIGHUP (the terminal it was started
 * from closed) was not handled and killed it by its default action (exit 129, no clean stop of the server); a SIGHUP
 * it was started ignoring (nohup) stays ignored.
 */

import { expect, test } from 'bun:test'
import { startSimVenue } from './sim-venue-process.ts'

async function startSimVenueChild(prefix: string[]): Promise<Bun.Subprocess<'ignore', 'pipe', 'pipe'>> {
  return (await startSimVenue([], prefix)).child
}

async function exitOf(child: Bun.Subprocess): Promise<number | string> {
  return Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running after 10 s')])
}

for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
  test(`sim-venue exits 0 on ${signal}, saying so`, async () => {
    const child = await startSimVenueChild([])
    try {
      child.kill(signal)
      expect(await exitOf(child)).toBe(0)
      expect(await new Response(child.stderr).text()).toContain(`sim-venue: ${signal}: stopping`)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await child.exited
    }
  }, 30_000)
}

test('a sim-venue started with SIGHUP ignored (nohup) keeps running through a SIGHUP; SIGTERM still stops it', async () => {
  const child = await startSimVenueChild(['nohup'])
  try {
    child.kill('SIGHUP')
    await Bun.sleep(500)
    expect(child.exitCode).toBeNull()
    child.kill('SIGTERM')
    expect(await exitOf(child)).toBe(0)
    const stderr = await new Response(child.stderr).text()
    expect(stderr).not.toContain('SIGHUP')
    expect(stderr).toContain('sim-venue: SIGTERM: stopping')
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)
