import { describe, expect, test } from 'bun:test'
import { HASH_BYTES, chainHashInPlace, chainHashReference, fromHex, toHex } from '../../wal/chain.ts'
import { frameBytesFor } from '../../wal/frame.ts'
import { decodeFrame, verifyFrameHash } from '../../wal/frame-check.ts'
import { GENESIS_HASH } from '../../wal/index.ts'
import { encodeFrame, prng } from './support.ts'

describe('chain hash', () => {
  test('the native hot-path SHA-256 gives the same digests as @noble/hashes for random frames', () => {
    const seed = 20261121
    const random = prng(seed)
    let previous = GENESIS_HASH.slice()
    for (let round = 0; round < 500; round++) {
      const content = new Uint8Array(Math.floor(random() * 2000))
      for (let index = 0; index < content.length; index++) content[index] = Math.floor(random() * 256)
      const laidOut = new Uint8Array(HASH_BYTES + content.length)
      laidOut.set(previous, 0)
      laidOut.set(content, HASH_BYTES)
      const native = new Uint8Array(HASH_BYTES)
      chainHashInPlace(laidOut, native)
      const reference = chainHashReference(previous, content)
      expect(toHex(native), `seed ${seed} round ${round}`).toBe(toHex(reference))
      previous = native
    }
  })

  test('a frame hash chains from the previous hash and over the whole content', () => {
    const payload = new TextEncoder().encode('order.accepted {"id":"o-1"}')
    const buffer = new Uint8Array(frameBytesFor(payload.length))
    const scratchHash = new Uint8Array(HASH_BYTES)
    encodeFrame(buffer, 0, { lsn: 1, epoch: 3, record: { type: 2, version: 1, payload }, previousHash: GENESIS_HASH, scratchHash })
    const check = decodeFrame(buffer, 0, buffer.length)
    if (!check.ok) throw new Error('frame should decode')
    const expected = chainHashReference(GENESIS_HASH, buffer.subarray(40))
    expect(toHex(check.frame.hash)).toBe(toHex(expected))
    expect(verifyFrameHash(buffer, 0, buffer.length, GENESIS_HASH, scratchHash)).toBe(true)
    expect(verifyFrameHash(buffer, 0, buffer.length, fromHex('11'.repeat(32)), scratchHash)).toBe(false)
  })

  test('hex helpers round-trip and refuse non-hex', () => {
    expect(toHex(fromHex('00ff10'))).toBe('00ff10')
    expect(() => fromHex('zz')).toThrow()
  })
})
