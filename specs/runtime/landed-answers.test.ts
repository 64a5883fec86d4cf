/**
 * The engine's answering of landed appends (src/runtime/landed-answers.ts), on its own: one microtask per log batch,
 * listeners told before any caller, LSNs checked, every command counted settled after its caller is answered.
 */

import { describe, expect, test } from 'bun:test'
import type { KernelCommand } from '../../src/kernel/index.ts'
import { CommandAppend } from '../../src/runtime/command-append.ts'
import type { AppliedEvent, Committed } from '../../src/runtime/engine-types.ts'
import { checkLsns, LandedAnswers, type LandingHooks } from '../../src/runtime/landed-answers.ts'

function harness(handler: ((error: unknown) => void) | null): { landing: LandedAnswers; seen: string[] } {
  const seen: string[] = []
  const hooks: LandingHooks = {
    listenerErrorHandler: () => handler,
    placeSendGate: () => null,
    tellListeners: (applied: AppliedEvent[]) => seen.push(`told ${applied.length}`),
    settleOne: () => seen.push('settled'),
    releaseQueued: () => seen.push('released'),
  }
  return { landing: new LandedAnswers(hooks), seen }
}

function appendOf(landing: LandedAnswers, firstLsn: number, seen: string[]): CommandAppend {
  const answer = Promise.withResolvers<Committed>()
  answer.promise.then(
    (committed) => seen.push(`answered ${committed.lsns.join(',')}`),
    (error: unknown) => seen.push(`failed ${String(error)}`),
  )
  const record = { type: 1, version: 1, payload: new Uint8Array() }
  return new CommandAppend(landing, { events: [], reply: { kind: 'done' } }, [record], [], firstLsn, 0, answer, false, { kind: 'clear_suspects' } as unknown as KernelCommand)
}

describe('LandedAnswers', () => {
  test("a batch's appends are answered from one microtask, in LSN order, the waiters released after them", async () => {
    const { landing, seen } = harness(() => {})
    const first = appendOf(landing, 1, seen)
    const second = appendOf(landing, 2, seen)
    first.durable(1)
    expect(landing.queued).toBe(true)
    second.durable(2)
    expect(seen).toEqual([])
    await Promise.resolve()
    expect(landing.queued).toBe(false)
    // Nothing applied: the listeners are not called; each caller is settled, then the waiters released.
    expect(seen.slice(0, 3)).toEqual(['settled', 'settled', 'released'])
    await Promise.resolve()
    expect(seen.slice(3)).toEqual(['answered 1', 'answered 2'])
  })

  test('an append the log gave other LSNs than predicted fails its caller', async () => {
    const { landing, seen } = harness(null)
    appendOf(landing, 5, seen).durable(6)
    await Promise.resolve()
    await Promise.resolve()
    expect(seen).toContain('failed AssertionError: engine predicted LSN 5, log assigned 6: another writer?')
  })

  test('checkLsns accepts consecutive LSNs from the predicted first and throws on any other', () => {
    expect(() => checkLsns([3, 4, 5], 3)).not.toThrow()
    expect(() => checkLsns([3, 5], 3)).toThrow('engine predicted LSN 4, log assigned 5')
  })
})
