import { expect, test } from 'bun:test'
import { LsnQueue } from '../../src/backoffice/lsn-queue.ts'

test('LSNs come out in the order they went in, across drains and compactions', () => {
  const queue = new LsnQueue()
  const model: number[] = []
  let next = 1
  // Seeded interleaving of pushes and takes: batches larger than the compaction threshold, taken partly before the
  // next batch arrives (a batch committed while the previous one is still being delivered), and full drains.
  let seed = 17
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
  for (let round = 0; round < 400; round++) {
    const pushes = Math.floor(random() * 3_000)
    for (let index = 0; index < pushes; index++) {
      queue.push(next)
      model.push(next++)
    }
    const takes = random() < 0.3 ? model.length : Math.floor(random() * (model.length + 1))
    for (let index = 0; index < takes; index++) {
      expect(queue.peek()).toBe(model[0] as number)
      expect(queue.shift()).toBe(model.shift() as number)
    }
    expect(queue.size).toBe(model.length)
  }
  while (model.length > 0) expect(queue.shift()).toBe(model.shift() as number)
  expect(queue.size).toBe(0)
  expect(queue.peek()).toBeUndefined()
  expect(queue.shift()).toBeUndefined()
})
