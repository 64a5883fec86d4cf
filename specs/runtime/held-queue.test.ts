/** The FIFO of what waits for the log's room (src/runtime/held-queue.ts): order kept across its compactions. */

import { expect, test } from 'bun:test'
import { HeldQueue } from '../../src/runtime/held-queue.ts'

test('items come out oldest first while others join, across compactions of its array', () => {
  const queue = new HeldQueue<number>()
  const taken: number[] = []
  let next = 0
  // Three joins per two takes, long enough for the head to pass 1,024 and half the array several times.
  for (let round = 0; round < 3_000; round++) {
    queue.push(next++)
    queue.push(next++)
    queue.push(next++)
    for (let take = 0; take < 2; take++) {
      taken.push(queue.first() as number)
      queue.dropFirst()
    }
  }
  expect(queue.size).toBe(3_000)
  expect(taken).toEqual(Array.from({ length: 6_000 }, (_, index) => index))
  expect(queue.some((item) => item === 6_000)).toBe(true)
  expect(queue.some((item) => item === 5_999)).toBe(false)
  expect(queue.takeAll()).toEqual(Array.from({ length: 3_000 }, (_, index) => 6_000 + index))
  expect(queue.size).toBe(0)
  expect(queue.first()).toBeUndefined()
  queue.dropFirst()
  expect(queue.size).toBe(0)
})
