/** Shared helpers for the audit specs: keys, logs with seals, and surgical edits of segment files. */

import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose'
import { chainHashReference } from '../../wal/index.ts'
import { Wal } from '../../wal/index.ts'
import { expect } from 'bun:test'
import { AUDIT_SEAL, Sealer, type SealSigningKey, type SelfChecker } from '../../src/audit/index.ts'

import { tempDir } from '../wal/support.ts'
export { tempDir, removeTempDirs } from '../wal/support.ts'

export interface TestKeys {
  signer: SealSigningKey
  publicJwk: JWK
  privateJwk: JWK
}

export async function testKeys(): Promise<TestKeys> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256')
  return {
    signer: { key: privateKey, kid },
    publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' },
  }
}

const encoder = new TextEncoder()

export function payloadRecord(index: number, bytes = 40) {
  const text = `record-${index}-`.padEnd(bytes, 'x')
  return { type: 7, version: 1, payload: encoder.encode(text) }
}

/** An open log (no fsync) of `records` records with a seal every 10, and its Sealer, for the self-check's tests. */
export async function sealedWal(keys: TestKeys, records: number, segmentBytesMax = 64 * 1024 * 1024): Promise<{ wal: Wal; sealer: Sealer }> {
  const wal = Wal.open(tempDir('egress-selfcheck-'), { durability: 'none', preallocateBytes: 0, segmentBytesMax })
  const sealer = new Sealer({ signer: keys.signer, everyRecords: 10, everyMs: 60_000 })
  await appendSealed(wal, sealer, 1, records)
  return { wal, sealer }
}

/** Appends records `from`..`to`, sealing when due (the record's index is the seal clock's ms). */
export async function appendSealed(wal: Wal, sealer: Sealer, from: number, to: number): Promise<void> {
  for (let index = from; index <= to; index++) {
    await wal.append([payloadRecord(index)])
    await sealer.maybeSeal(wal, index)
  }
}

/** A log of `records` records, sealed every `sealEvery` (and once at the end). Returns the closed log's dir. */
export async function sealedLog(dir: string, keys: TestKeys, options: { records: number; sealEvery: number; segmentBytesMax?: number }): Promise<void> {
  const wal = Wal.open(dir, { durability: 'none', segmentBytesMax: options.segmentBytesMax ?? 64 * 1024 * 1024 })
  const sealer = new Sealer({ signer: keys.signer, everyRecords: options.sealEvery, everyMs: 1e9 })
  for (let index = 1; index <= options.records; index++) {
    await wal.append([payloadRecord(index)])
    await sealer.maybeSeal(wal, 1_000 + index)
  }
  await sealer.sealNow(wal, 1_000 + options.records + 1)
  await wal.close()
}

/** A located frame in a segment file. */
export interface RawFrame {
  file: string
  offset: number
  end: number
  lsn: number
  type: number
}

export function segmentFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.seg')).sort().map((name) => join(dir, name))
}

export function rawFrames(file: string): RawFrame[] {
  const bytes = readFileSync(file)
  const frames: RawFrame[] = []
  let offset = 64
  while (offset + 56 <= bytes.byteLength) {
    const length = bytes.readUInt32LE(offset)
    if (length === 0) break
    const end = offset + length + 8
    frames.push({ file, offset, end, lsn: Number(bytes.readBigUInt64LE(offset + 40)), type: bytes.readUInt16LE(offset + 52) })
    offset = end
  }
  return frames
}

export function allRawFrames(dir: string): RawFrame[] {
  return segmentFiles(dir).flatMap(rawFrames)
}

export function frameAt(dir: string, lsn: number): RawFrame {
  const frame = allRawFrames(dir).find((candidate) => candidate.lsn === lsn)
  if (frame === undefined) throw new Error(`no frame with LSN ${lsn}`)
  return frame
}

function fixCrc(bytes: Buffer, offset: number, end: number): void {
  bytes.writeUInt32LE(Bun.hash.crc32(bytes.subarray(offset + 8, end)), offset + 4)
}

/** Flips one payload byte of the frame at `lsn` and recomputes its CRC, so only the chain can notice. */
export function editPayloadByte(dir: string, lsn: number, payloadIndex = 3): RawFrame {
  const frame = frameAt(dir, lsn)
  const bytes = readFileSync(frame.file)
  const at = frame.offset + 56 + payloadIndex
  bytes[at] = (bytes[at] as number) ^ 0x01
  fixCrc(bytes, frame.offset, frame.end)
  writeFileSync(frame.file, bytes)
  return frame
}

/**
 * Removes the frame at `lsn` (single-segment logs) and renumbers the frames after it, fixing their CRCs. With
 * `rechain`, their hashes are recomputed too, so CRC and chain both pass and only seals (or anchors) can tell.
 */
export function deleteAndRenumber(dir: string, lsn: number, options: { rechain: boolean }): void {
  const [file, ...others] = segmentFiles(dir)
  if (file === undefined || others.length > 0) throw new Error('deleteAndRenumber handles single-segment logs')
  const bytes = readFileSync(file)
  const frames = rawFrames(file)
  const removed = frames.find((frame) => frame.lsn === lsn)
  if (removed === undefined) throw new Error(`no frame with LSN ${lsn}`)
  const output = Buffer.concat([bytes.subarray(0, removed.offset), bytes.subarray(removed.end, frames.at(-1)?.end)])
  let previous = hashBefore(bytes, frames, frames.indexOf(removed))
  let offset = removed.offset
  while (offset < output.byteLength) {
    const end = offset + output.readUInt32LE(offset) + 8
    output.writeBigUInt64LE(output.readBigUInt64LE(offset + 40) - 1n, offset + 40)
    if (options.rechain) {
      const hash = chainHashReference(previous, output.subarray(offset + 40, end))
      output.set(hash, offset + 8)
      previous = hash
    }
    fixCrc(output, offset, end)
    offset = end
  }
  writeFileSync(file, output)
}

/** Replaces the signature part of the seal JWS in the seal record at `lsn` with another valid-looking one, fixing the CRC (and rechaining everything after, so only the signature is wrong). */
export function replaceSealSignature(dir: string, lsn: number): void {
  const frame = frameAt(dir, lsn)
  const bytes = readFileSync(frame.file)
  const payload = JSON.parse(bytes.subarray(frame.offset + 56, frame.end).toString('utf8')) as { jws: string }
  const [header, body, signature] = payload.jws.split('.') as [string, string, string]
  const forged = Buffer.from(signature, 'base64url')
  forged[0] = (forged[0] as number) ^ 0xff
  const replaced = Buffer.from(JSON.stringify({ jws: `${header}.${body}.${forged.toString('base64url')}` }))
  if (replaced.byteLength !== frame.end - frame.offset - 56) throw new Error('the forged payload must keep its length')
  replaced.copy(bytes, frame.offset + 56)
  rechainFrom(bytes, frame.offset)
  writeFileSync(frame.file, bytes)
}

/** Recomputes hash and CRC of every frame from `offset` on (single segment), as an attacker with no key can. */
export function rechainFrom(bytes: Buffer, offset: number): void {
  const frames = rawFramesOf(bytes)
  const index = frames.findIndex((frame) => frame.offset === offset)
  let previous = hashBefore(bytes, frames, index)
  for (const frame of frames.slice(index)) {
    const hash = chainHashReference(previous, bytes.subarray(frame.offset + 40, frame.end))
    bytes.set(hash, frame.offset + 8)
    fixCrc(bytes, frame.offset, frame.end)
    previous = hash
  }
}

function rawFramesOf(bytes: Buffer): { offset: number; end: number }[] {
  const frames: { offset: number; end: number }[] = []
  let offset = 64
  while (offset + 56 <= bytes.byteLength) {
    const length = bytes.readUInt32LE(offset)
    if (length === 0) break
    frames.push({ offset, end: offset + length + 8 })
    offset += length + 8
  }
  return frames
}

/** The chain head before frames[index]: the previous frame's hash, or the segment header's base for the first. */
function hashBefore(bytes: Buffer, frames: readonly { offset: number }[], index: number): Uint8Array {
  const before = frames[index - 1]
  return before === undefined ? new Uint8Array(bytes.subarray(24, 56)) : new Uint8Array(bytes.subarray(before.offset + 8, before.offset + 40))
}

/**
 * What every SelfChecker (on the event loop, or in its thread) does with an edit: a check passes the sealed log of 30
 * records, then an edited record appended after it is found at its LSN, file and offset, and the finding sticks.
 */
export async function expectEditFoundAndKept(wal: Wal, check: SelfChecker): Promise<void> {
  expect(await check.check()).toBeNull()
  await wal.append([payloadRecord(31), payloadRecord(32), payloadRecord(33)])
  const edited = editPayloadByte(wal.dir, wal.lastLsn - 1)
  const finding = await check.check()
  expect(finding).toMatchObject({ code: 'CHAIN_BREAK', lsn: wal.lastLsn - 1, file: edited.file, offsetBytes: edited.offset })
  await wal.append([payloadRecord(34)])
  expect(await check.check()).toEqual(finding)
}

/** A forged signature on the log's first seal is found by `check` (made after the forgery) at that seal's LSN and offset. */
export async function expectForgedSealFound(wal: Wal, makeCheck: () => Promise<SelfChecker>): Promise<void> {
  const sealLsn = [...wal.read(1)].find((frame) => frame.type === AUDIT_SEAL.type)?.lsn as number
  replaceSealSignature(wal.dir, sealLsn)
  const check = await makeCheck()
  expect(await check.check()).toMatchObject({ code: 'SEAL_SIGNATURE_INVALID', lsn: sealLsn, offsetBytes: frameAt(wal.dir, sealLsn).offset })
}
