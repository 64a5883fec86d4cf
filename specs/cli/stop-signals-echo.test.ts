/**
 * The same stop signal again within SIGNAL_ECHO_MS of the first is its echo and ignored: `npm start` runs the gateway
 * with `exec` (so a SIGTERM to npm's pid reaches it: it used to end npm and its shell and leave the gateway running,
 * holding ./data), and npm passes a terminal's Ctrl-C on to its child, which got it from the terminal too. Any other
 * second signal, the same one after the window, or a third of it within (a second press), still ends the process at once.
 */

import { expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { SIGNAL_ECHO_MS } from '../../src/cli/stop-signals.ts'

const CHILD = resolve(import.meta.dir, 'support/stop-signal-child.ts')

interface Child {
  process: ReturnType<typeof Bun.spawn>
  /** Everything it printed, once it has exited. */
  output: () => Promise<string>
}

/** The child, once its handlers are in (it said "ready"). */
async function startedChild(): Promise<Child> {
  const spawned = Bun.spawn([process.execPath, CHILD], { stdout: 'pipe', stderr: 'ignore' })
  const reader = (spawned.stdout as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes('ready\n')) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value)
  }
  const output = async (): Promise<string> => {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return text
      text += decoder.decode(value)
    }
  }
  return { process: spawned, output }
}

test('a Ctrl-C echoed by npm (the same signal twice within the window) stops once, cleanly', async () => {
  const { process: spawned, output } = await startedChild()
  spawned.kill('SIGINT')
  await Bun.sleep(20)
  spawned.kill('SIGINT')
  expect(await spawned.exited).toBe(0)
  expect(await output()).toContain('stopped')
})

test('a second Ctrl-C under npm (two more of the signal within the window: the press and its echo) ends it at once', async () => {
  const { process: spawned, output } = await startedChild()
  spawned.kill('SIGINT')
  await Bun.sleep(20)
  spawned.kill('SIGINT')
  await Bun.sleep(100)
  spawned.kill('SIGINT')
  expect(await spawned.exited).not.toBe(0)
  expect(await output()).not.toContain('stopped')
})

test('another signal within the window, or the same one after it, ends the process at once', async () => {
  const other = await startedChild()
  other.process.kill('SIGINT')
  await Bun.sleep(20)
  other.process.kill('SIGTERM')
  expect(await other.process.exited).not.toBe(0)
  expect(await other.output()).not.toContain('stopped')

  const late = await startedChild()
  late.process.kill('SIGINT')
  await Bun.sleep(SIGNAL_ECHO_MS + 300)
  late.process.kill('SIGINT')
  expect(await late.process.exited).not.toBe(0)
  expect(await late.output()).not.toContain('stopped')
})
