import { describe, expect, test } from 'bun:test'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { decodeSnapshot, encodeSnapshot, KERNEL_SECTION, SnapshotError } from '../../../src/runtime/snapshot/index.ts'

const meta = { lsn: 42, chainHead: 'ab'.repeat(32), createdAtMs: 1, kernelSchema: 'kernel-state/v1/0123456789abcdef' }

describe('snapshot file', () => {
  test('the content digest is SHA-256 of everything before the trailer (native hash agrees with @noble/hashes)', () => {
    const sections = new Map([[KERNEL_SECTION, new TextEncoder().encode('[1,2,3]')], ['backoffice', new Uint8Array([9, 8, 7])]])
    const { bytes, digest } = encodeSnapshot(meta, sections)
    expect(digest).toBe(bytesToHex(sha256(bytes.subarray(0, bytes.length - 32))))
    const decoded = decodeSnapshot(bytes)
    expect(decoded.header).toMatchObject({ ...meta, format: 'egress.snapshot', version: 1 })
    expect([...decoded.sections.keys()]).toEqual([KERNEL_SECTION, 'backoffice'])
    expect(decoded.sections.get('backoffice')).toEqual(new Uint8Array([9, 8, 7]))
  })

  test('every single-byte change and every truncation is detected', () => {
    const { bytes } = encodeSnapshot(meta, new Map([[KERNEL_SECTION, new TextEncoder().encode('[{"a":1}]')]]))
    for (let index = 0; index < bytes.length; index++) {
      const edited = bytes.slice()
      edited[index] = (edited[index] as number) ^ 0x01
      expect(() => decodeSnapshot(edited)).toThrow(SnapshotError)
    }
    for (let length = 0; length < bytes.length; length++) expect(() => decodeSnapshot(bytes.subarray(0, length))).toThrow(SnapshotError)
  })

  test('a snapshot of another format version is refused by name', () => {
    const { bytes } = encodeSnapshot(meta, new Map([[KERNEL_SECTION, new Uint8Array(1)]]))
    const text = new TextDecoder().decode(bytes.subarray(12, bytes.length - 33))
    expect(text).toContain('"version":1')
    // Re-encode with version 2 by hand: same layout, new header, fresh digest.
    const header = new TextEncoder().encode(new TextDecoder().decode(bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true))).replace('"version":1', '"version":2'))
    const body = new Uint8Array(12 + header.length + 1)
    body.set(bytes.subarray(0, 8))
    new DataView(body.buffer).setUint32(8, header.length, true)
    body.set(header, 12)
    const file = new Uint8Array(body.length + 32)
    file.set(body)
    file.set(sha256(body), body.length)
    expect(() => decodeSnapshot(file)).toThrow(/snapshot format version 2, this build reads 1/)
  })
})
