/** The key window's queue (src/kernel/key-queue.ts): FIFO order across its chunks, shedding whole chunks from the front. */

import { expect, test } from 'bun:test'
import { KeyQueue } from '../../src/kernel/key-queue.ts'

test('items come out in the order they went in, across chunk boundaries, while more go in', () => {
  const queue = new KeyQueue()
  expect(queue.empty).toBe(true)
  const out: string[] = []
  let next = 0
  for (let round = 0; round < 5; round++) {
    for (let index = 0; index < 3_000; index++, next++) queue.push(`k${next}`, next * 10)
    for (let index = 0; index < 2_500; index++) {
      expect(queue.frontTime).toBe(Number(queue.frontKey.slice(1)) * 10)
      out.push(queue.frontKey)
      queue.shift()
    }
  }
  while (!queue.empty) {
    out.push(queue.frontKey)
    queue.shift()
  }
  expect(out).toEqual(Array.from({ length: next }, (_, index) => `k${index}`))
  // Emptied at a chunk's end, it takes items again.
  queue.push('again', 7)
  expect(Boolean(queue.empty)).toBe(false)
  expect(queue.frontKey).toBe('again')
  expect(queue.frontTime).toBe(7)
})

test('visitFromFront walks from the front across chunks without dropping anything, and stops when told', () => {
  const queue = new KeyQueue()
  for (let index = 0; index < 9_000; index++) queue.push(`k${index}`, index)
  for (let index = 0; index < 4_000; index++) queue.shift()
  const seen: number[] = []
  queue.visitFromFront((_, time) => {
    seen.push(time)
    return time < 8_500
  })
  expect(seen[0]).toBe(4_000)
  expect(seen.at(-1)).toBe(8_500)
  expect(seen).toHaveLength(4_501)
  expect(queue.frontKey).toBe('k4000')
})
