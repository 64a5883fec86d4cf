/**
 * The frame views handed to commit subscribers are reused from batch to batch (batch-write.ts): once the subscribers
 * returned, the log keeps no batch's buffer alive through them. Before, a view kept pointing at the buffer of the
 * last batch large enough to use it: a burst's large batch, then smaller ones, left every view past the small
 * batches' size holding a buffer of its own (a tapering burst held one per batch size, up to batchBytesMax each).
 * Between callbacks a view kept past its own reads an empty payload, not another batch's record (inside a later
 * batch's callback it is that batch's frame: views are reused, so a listener copies what it keeps).
 */

import { afterEach, expect, test } from 'bun:test'
import { Wal, type Frame } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir, text } from './support.ts'

afterEach(removeTempDirs)

/** Appends `count` records in one batch; returns a weak reference to the buffer its frames were handed in. */
async function bufferOfBatch(wal: Wal, count: number): Promise<WeakRef<Uint8Array>> {
  let buffer: WeakRef<Uint8Array> | null = null
  const unsubscribe = wal.subscribe((batch) => {
    buffer = new WeakRef((batch.frames[0] as unknown as { bytes: Uint8Array }).bytes)
  })
  await wal.append(Array.from({ length: count }, (_, index) => record(`burst ${index} ${'x'.repeat(1000)}`)))
  unsubscribe()
  return buffer as unknown as WeakRef<Uint8Array>
}

test('once its subscribers returned, a batch buffer is kept alive by no reused frame view', async () => {
  const wal = Wal.open(tempDir(), { preallocateBytes: 0, durability: 'none' })
  wal.subscribe(() => undefined)
  const large = await bufferOfBatch(wal, 64)
  // Smaller batches after it reuse the first views only.
  for (let index = 0; index < 4; index++) await wal.append([record(`small ${index}`)])
  for (let attempt = 0; attempt < 5 && large.deref() !== undefined; attempt++) {
    Bun.gc(true)
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
  expect(large.deref() === undefined).toBe(true)
  await wal.close()
})

test('between callbacks, a frame view kept past its own reads an empty payload, not a later batch record', async () => {
  const wal = Wal.open(tempDir(), { preallocateBytes: 0, durability: 'none' })
  let kept: Frame | null = null
  wal.subscribe((batch) => {
    if (kept === null) {
      kept = batch.frames[0] as Frame
      expect(text(kept.payload)).toBe('first')
    }
  })
  await wal.append([record('first')])
  await wal.append([record('second')])
  expect(text((kept as unknown as Frame).payload)).not.toBe('second')
  expect((kept as unknown as Frame).payload.byteLength).toBe(0)
  await wal.close()
})
