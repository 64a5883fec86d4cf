/**
 * A repeat of a flatten asked while the flatten is still being decided waits for it (GatewayCommands.flatten) and then
 * answers its answer. Waiting so, it held nothing the gateway counts: a repeat of a place waiting for its original's
 * batch takes one of the log's durability waiters, and past their bound is refused as overloaded, but a flatten's
 * repeats on a stalled disk piled up one promise each, as many as clients sent. They now count against the same bound.
 */

import { expect, test } from 'bun:test'
import { heldSyncIo } from '../wal/support.ts'
import { EngineOverloadedError } from '../../src/runtime/engine.ts'
import { opsUser, startWorld, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

test('repeats of a flatten waiting for it on a stalled log are bounded: past durabilityWaiters.max one is refused as overloaded', async () => {
  const io = heldSyncIo()
  // Syncs complete at once until the disk "stalls"; then they are held until it comes back.
  let stalled = false
  const disk = setInterval(() => {
    while (!stalled && io.held > 0) io.release()
  }, 1)
  try {
    const world = await startWorld({ seed: 45, wal: { io, durability: 'fsync' } })
    worlds.push(world)
    const { engine } = world.gateway
    engine.durabilityWaiters.max = 3
    stalled = true
    // The flatten's record is written and its sync held: the flatten is under way.
    const first = world.gateway.flatten(opsUser, 'acct-a', 'f-stalled')
    await Bun.sleep(5)
    expect(io.held).toBe(1)
    const repeats = Array.from({ length: 5 }, () => world.gateway.flatten(opsUser, 'acct-a', 'f-stalled'))
    // Answered within moments, not held until the disk comes back (before, they waited with the rest).
    const refused = await Promise.race([Promise.allSettled(repeats.slice(3)), Bun.sleep(100).then(() => 'still waiting' as const)])
    expect(refused).not.toBe('still waiting')
    for (const outcome of refused as PromiseSettledResult<unknown>[]) {
      expect(outcome.status).toBe('rejected')
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(EngineOverloadedError)
    }
    // The disk comes back: the flatten and the three waiting repeats are answered, the repeats with its answer.
    stalled = false
    const [answer, ...waited] = await Promise.all([first, ...repeats.slice(0, 3)])
    expect(answer?.reply).toEqual({ kind: 'done' })
    for (const repeat of waited) expect(repeat.reply).toMatchObject({ kind: 'flatten_repeat', lsn: answer?.lsn as number })
    // Answered, they hold nothing: a repeat now is answered at once, however many waited before.
    expect(await world.gateway.flatten(opsUser, 'acct-a', 'f-stalled')).toMatchObject({ reply: { kind: 'flatten_repeat' }, lsn: null })
    expect(world.errors).toEqual([])
  } finally {
    stalled = false
    await Bun.sleep(5)
    clearInterval(disk)
  }
})
