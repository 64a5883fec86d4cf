// Reading an anchors file (src/audit/anchors-file.ts): a file that grows by a line per anchor for as long as the
// gateway runs is read whatever its length up to ANCHORS_MAX anchors, while a wrong file is refused at its first line.
// Before: the whole file was bounded at 128 MiB, so an anchor loop's file at the default seal interval (one anchor a
// minute, ~650 bytes each with its seal) was refused ANCHORS_UNREADABLE after some five months, though read before.
import { afterAll, describe, expect, test } from 'bun:test'
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { readAnchorsFile } from '../../src/audit/index.ts'
import { ANCHOR_LINE_BYTES_MAX } from '../../src/audit/anchors-file.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterAll(removeTempDirs)

/** An anchor line as `egress audit anchor` prints it, with a seal of a real seal's length (an EdDSA compact JWS). */
function anchorLine(lsn: number): string {
  const b64 = (bytes: number): string => 'A'.repeat(Math.ceil((bytes * 4) / 3))
  const seal = `${b64(110)}.${b64(230)}.${b64(64)}`
  const chainHead = (lsn % 16).toString(16).repeat(64)
  return `${JSON.stringify({ lsn, chainHead, seal, sealRecordLsn: lsn + 1, sealedAtMs: 1_767_225_600_000 + lsn * 60_000 })}\n`
}

describe('readAnchorsFile', () => {
  test('an anchor loop\'s file of more than 128 MiB (ANCHORS_MAX anchors at most) is read whole', () => {
    const lineBytes = anchorLine(1_000_000).length
    expect(lineBytes).toBeGreaterThan(600)
    const count = Math.ceil((129 * 1024 * 1024) / lineBytes)
    const path = join(tempDir('egress-anchors-long-'), 'anchors.jsonl')
    const fd = openSync(path, 'w')
    try {
      for (let from = 1; from <= count; from += 10_000) {
        let chunk = ''
        for (let lsn = from; lsn < Math.min(from + 10_000, count + 1); lsn++) chunk += anchorLine(lsn * 10)
        writeSync(fd, chunk)
      }
    } finally {
      closeSync(fd)
    }
    const anchors = readAnchorsFile(path)
    expect(anchors).toHaveLength(count)
    expect(anchors[0]?.lsn).toBe(10)
    expect(anchors[count - 1]?.lsn).toBe(count * 10)
    expect(anchors[count - 1]?.seal).toBe(JSON.parse(anchorLine(count * 10)).seal)
  }, 60_000)

  test('/dev/zero is refused at its first line, not read to the file bound', () => {
    expect(() => readAnchorsFile('/dev/zero')).toThrow(
      `ANCHORS_UNREADABLE: anchors file /dev/zero: line 1 is longer than ${ANCHOR_LINE_BYTES_MAX} bytes, which no anchor is`,
    )
  })

  test('lines are numbered as in the file, blank ones and CRLF included, and a character split between reads is whole', () => {
    const dir = tempDir('egress-anchors-lines-')
    const good = { lsn: 7, chainHead: 'a'.repeat(64) }
    const crlf = join(dir, 'crlf.jsonl')
    writeFileSync(crlf, `\r\n\n${JSON.stringify(good)}\r\n\n{"lsn": 0, "chainHead": "${'b'.repeat(64)}"}\n`)
    expect(() => readAnchorsFile(crlf)).toThrow(`ANCHORS_INVALID: ${crlf} line 5: lsn: Invalid value`)
    // An 'é' whose first byte is the last of the first 1 MiB read: decoded whole, and the UTF-8 check still strict.
    const line = `${JSON.stringify(good)}\n`
    const lines = line.repeat(Math.floor((1024 * 1024 - 1000) / line.length))
    const head = `{"lsn": 10, "chainHead": "${good.chainHead}", "f": "`
    const filler = 'x'.repeat(1024 * 1024 - 1 - lines.length - head.length)
    const boundary = join(dir, 'boundary.jsonl')
    writeFileSync(boundary, `${lines}${head}${filler}é"}\n`)
    expect(Buffer.from(`${lines}${head}${filler}é`).length).toBe(1024 * 1024 + 1)
    const read = readAnchorsFile(boundary)
    expect(read).toHaveLength(lines.length / line.length + 1)
    expect(String((read.at(-1) as Record<string, unknown>).f)).toBe(`${filler}é`)
    const prefix = line
    const latin1 = join(dir, 'latin1.jsonl')
    writeFileSync(latin1, Buffer.concat([Buffer.from(`${prefix}`), Buffer.from([0x7b, 0xe9, 0x7d, 0x0a])]))
    expect(() => readAnchorsFile(latin1)).toThrow(`ANCHORS_INVALID: anchors file ${latin1}: not UTF-8 text`)
  })

  test('a JSON array (after white space) is read as one document', () => {
    const path = join(tempDir('egress-anchors-array-'), 'anchors.json')
    writeFileSync(path, `\n  ${JSON.stringify([{ lsn: 3, chainHead: 'c'.repeat(64) }, { lsn: 4, chainHead: 'd'.repeat(64) }], null, 2)}\n`)
    expect(readAnchorsFile(path).map((anchor) => anchor.lsn)).toEqual([3, 4])
  })
})
