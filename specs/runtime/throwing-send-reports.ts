/**
 * What the child processes of the send-report specs share (dispatch-error-report-child.ts,
 * send-refused-report-child.ts): the errors that escape as unhandled, an executor whose report of a send's error
 * throws (a logger that failed), and the end of the child, which prints what it saw as one JSON line.
 */

import { rmSync } from 'node:fs'
import type { Executor, ExecutorOptions } from '../../src/runtime/executor.ts'
import type { World } from './harness.ts'

/** Every error that escapes unhandled from here on, as text. */
export function escapedErrors(): string[] {
  const escaped: string[] = []
  process.on('unhandledRejection', (reason: unknown) => void escaped.push(String(reason)))
  process.on('uncaughtException', (error: unknown) => void escaped.push(String(error)))
  return escaped
}

/** Makes `executor`'s report of a send's error throw; `reported` lists the reports' contexts, `restore` undoes it. */
export function throwingSendReports(executor: Executor): { reported: string[]; restore(): void } {
  const options = (executor as unknown as { options: ExecutorOptions }).options
  const onError = options.onError
  const reported: string[] = []
  options.onError = (error, context) => {
    if (!context.startsWith('send of ')) return onError(error, context)
    reported.push(context)
    throw new Error(`report failed: ${String(error)}`)
  }
  return { reported, restore: () => (options.onError = onError) }
}

/** Lets the microtasks and one timer turn run, so what a dispatch threw has escaped before it is read. */
export async function settled(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await Promise.resolve()
  await new Promise((resolve) => setTimeout(resolve, 0))
}

/** Stops the world, removes its data and ends the child with `seen` as its last line. */
export async function endChild(world: World, seen: unknown): Promise<never> {
  await world.gateway.stop().catch(() => undefined)
  rmSync(world.dir, { recursive: true, force: true })
  process.stdout.write(`${JSON.stringify(seen)}\n`)
  process.exit(0)
}
