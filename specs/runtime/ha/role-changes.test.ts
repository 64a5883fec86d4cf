/**
 * RoleChanges (src/runtime/ha/role-changes.ts): an HA node's role changes one at a time, none once it stops, and a
 * stop that waits for the one in progress — within a bound, never for good. No timing is asserted but the bound
 * itself, and that only from below and with a generous margin above.
 */

import { expect, test } from 'bun:test'
import { RoleChanges, roleChangeWaitMsMax } from '../../../src/runtime/ha/role-changes.ts'
import { NodeStoppingError } from '../../../src/runtime/ha/index.ts'

/** A change held until the spec lets it end. */
function heldChange(): { change: () => Promise<void>; started: () => boolean; end: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>()
  let started = false
  return {
    change: async () => {
      started = true
      await promise
    },
    started: () => started,
    end: () => resolve(),
  }
}

test('one change at a time: another asked for meanwhile is skipped, or (whenFree) runs once the first has ended', async () => {
  const changes = new RoleChanges()
  const first = heldChange()
  const skipped = heldChange()
  const queued = heldChange()
  const running = changes.run('takeover', first.change)
  await changes.run('step-down', skipped.change)
  const waiting = changes.whenFree('re-sync', queued.change)
  await Bun.sleep(10)
  expect({ first: first.started(), skipped: skipped.started(), queued: queued.started() }).toEqual({ first: true, skipped: false, queued: false })
  first.end()
  await running
  await Bun.sleep(0)
  expect(queued.started()).toBe(true)
  queued.end()
  await waiting
})

test('settled: null once the change in progress has ended (a rejected one too), its name while it still runs at the bound', async () => {
  const changes = new RoleChanges()
  expect(await changes.settled(1_000)).toBeNull()
  const held = heldChange()
  void changes.run('re-sync from the snapshot', held.change)
  const startedMs = Date.now()
  expect(await changes.settled(50)).toBe('re-sync from the snapshot')
  expect(Date.now() - startedMs).toBeGreaterThanOrEqual(50)
  const waiting = changes.settled(10_000)
  held.end()
  expect(await waiting).toBeNull()
  const failing = changes.run('takeover', async () => {
    await Bun.sleep(1)
    throw new Error('the takeover failed (injected)')
  })
  const settling = changes.settled(10_000)
  await expect(failing).rejects.toThrow('the takeover failed (injected)')
  expect(await settling).toBeNull()
})

test('closed (the node stops): no change starts any more, and a pause in progress ends at once', async () => {
  const changes = new RoleChanges()
  const pausing = changes.pause(60_000)
  changes.close()
  const ended = await Promise.race([pausing.then(() => 'ended'), Bun.sleep(5_000).then(() => 'still paused')])
  expect(ended).toBe('ended')
  const late = heldChange()
  await changes.run('takeover', late.change)
  await changes.whenFree('re-sync', late.change)
  expect(late.started()).toBe(false)
})

test('closed (the node stops): the stop signal every request to the leader carries aborts, with NODE_STOPPING', () => {
  const changes = new RoleChanges()
  expect(changes.stopSignal.aborted).toBe(false)
  changes.close()
  expect(changes.stopSignal.aborted).toBe(true)
  expect(changes.stopSignal.reason).toBeInstanceOf(NodeStoppingError)
  expect(changes.stopSignal.reason).toMatchObject({ code: 'NODE_STOPPING' })
  changes.close() // a second stop() closes again: the signal keeps its first reason
  expect(changes.stopSignal.reason).toBeInstanceOf(NodeStoppingError)
})

test('a change that stops the node on its way (synchronously, before its first await) is already the one stop() waits for', async () => {
  const changes = new RoleChanges()
  const held = heldChange()
  let stopSaw: Promise<string | null> | null = null
  void changes.run('start-up', async () => {
    stopSaw = changes.settled(50)
    await held.change()
  })
  expect(await (stopSaw as Promise<string | null> | null)).toBe('start-up')
  held.end()
})

test('the bound comes from the node options: two snapshot-recovery timeouts, one backoff, two lease TTLs', () => {
  const replication = { backoffMsMin: 20, backoffMsMax: 1_000, envelopeBytesMax: 1024, silenceMsMax: 5_000 }
  expect(roleChangeWaitMsMax({ replication, leaseTtlMs: 5_000 })).toBe(2 * 60_000 + 1_000 + 2 * 5_000)
  expect(roleChangeWaitMsMax({ replication, leaseTtlMs: 200, snapshotRecovery: { bytesMax: 1, timeoutMs: 100, keep: 1 } })).toBe(200 + 1_000 + 400)
})

test('the bound is real time: a wall clock stepped back while stop() waits does not stretch it by the step', async () => {
  const changes = new RoleChanges()
  const stuck = heldChange()
  void changes.run('leader start', stuck.change)
  const realDateNow = Date.now
  try {
    const waiting = changes.settled(100)
    // An NTP correction steps the host's clock an hour back while stop() waits.
    setTimeout(() => {
      Date.now = () => realDateNow() - 3_600_000
    }, 20)
    const cut = await Promise.race([waiting, Bun.sleep(3_000).then(() => 'still waiting')])
    expect(cut).toBe('leader start')
  } finally {
    Date.now = realDateNow
    stuck.end()
  }
})
