/**
 * Flushes made while a save is under way share one follow-up save. Each inbound message flushes (advance), so with the
 * venue sending faster than the store saves (one log append and fsync each), every flush queued a save of its own
 * behind the one under way: each found the numbers moved since the save before it began (more messages had come) and
 * saved again. The queue grew by the venue's rate less the store's, without bound, and a flush — an outgoing order's
 * among them, whose write waits for it — waited for every save queued before it.
 */

import { expect, test } from 'bun:test'
import { DurableSeqNums } from '../../../src/venues/fix/seq-nums.ts'
import { FRESH_SEQ_NUMS, type FixSeqNums, type FixSessionStore } from '../../../src/venues/fix/store.ts'

/** A store whose saves wait until `releaseOne` lets the oldest through. */
function heldStore(): { store: FixSessionStore; saves: FixSeqNums[]; waiting: () => number; releaseOne: () => void } {
  const saves: FixSeqNums[] = []
  const held: (() => void)[] = []
  const store: FixSessionStore = {
    load: () => Promise.resolve({ ...FRESH_SEQ_NUMS }),
    save: (seqNums) => {
      saves.push({ ...seqNums })
      return new Promise<void>((resolve) => held.push(resolve))
    },
  }
  return { store, saves, waiting: () => held.length, releaseOne: () => held.shift()?.() }
}

const settle = async (): Promise<void> => {
  for (let turn = 0; turn < 10; turn++) await Promise.resolve()
}

test('with messages arriving during every save, a flush resolves after at most the save under way and one more; saves never queue up', async () => {
  const { store, saves, waiting, releaseOne } = heldStore()
  const seqNums = new DurableSeqNums(store, { ...FRESH_SEQ_NUMS })
  let target = 1
  const arrive = (): { done: boolean } => {
    seqNums.setTarget(++target)
    const flushed = { done: false }
    void seqNums.flush().then(() => (flushed.done = true))
    return flushed
  }
  arrive()
  await settle()
  const rounds = 200
  const byRound: { done: boolean }[][] = []
  for (let round = 0; round < rounds; round++) {
    // Ten messages while the save is under way, then it comes through.
    byRound.push(Array.from({ length: 10 }, arrive))
    await settle()
    expect(waiting()).toBeLessThanOrEqual(1)
    releaseOne()
    await settle()
    // The flushes of the round before: covered by the save that has just come through.
    if (round > 0) expect((byRound[round - 1] as { done: boolean }[]).every((flushed) => flushed.done)).toBe(true)
  }
  // One save per round, not one per message.
  expect(saves.length).toBeLessThanOrEqual(rounds + 1)
  releaseOne()
  await settle()
  expect(byRound.flat().every((flushed) => flushed.done)).toBe(true)
  expect(saves.at(-1)).toEqual({ nextSenderSeqNum: 1, nextTargetSeqNum: target })
})

test('a flush with nothing new to save resolves without a save, and a failed save fails every flush after it', async () => {
  const { store, saves, releaseOne } = heldStore()
  const seqNums = new DurableSeqNums(store, { ...FRESH_SEQ_NUMS })
  await seqNums.flush()
  expect(saves.length).toBe(0)
  seqNums.setTarget(2)
  const first = seqNums.flush()
  await settle()
  releaseOne()
  await first
  expect(saves).toEqual([{ nextSenderSeqNum: 1, nextTargetSeqNum: 2 }])

  const failing: FixSessionStore = { load: store.load, save: () => Promise.reject(new Error('fsync failed')) }
  const broken = new DurableSeqNums(failing, { ...FRESH_SEQ_NUMS })
  broken.setTarget(2)
  const during = broken.flush()
  broken.setTarget(3)
  const after = broken.flush()
  const settled = await Promise.allSettled([during, after])
  expect(settled.map((result) => result.status)).toEqual(['rejected', 'rejected'])
  await expect(broken.flush()).rejects.toThrow('fsync failed')
  expect(broken.failed).toBe(true)
})
