/** For the `egress backup` specs (backup.test.ts, backup-compaction.test.ts): running it in-process, and its output dir. */

import { expect } from 'bun:test'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rawFrameBytes, type Wal } from '../../../wal/index.ts'
import { runCli } from '../../../src/cli/index.ts'
import { encodeEnvelope } from '../../../src/runtime/ha/index.ts'
import { recordingIo } from '../../cli/io.ts'
import { removeDir } from '../harness.ts'
import { TOKEN } from './support.ts'

/** A fresh parent directory; the backup's --out is `parent/backup` (absent until the backup publishes it). */
export function outDir(cleanups: (() => Promise<void> | void)[]): { parent: string; out: string } {
  const parent = mkdtempSync(join(tmpdir(), 'egress-backup-'))
  cleanups.push(() => removeDir(parent))
  return { parent, out: join(parent, 'backup') }
}

export interface BackupRun {
  code: number
  /** The last stdout line, parsed. */
  result: Record<string, unknown>
  stderr: string
}

export async function backup(args: string[]): Promise<BackupRun> {
  const io = recordingIo({ EGRESS_REPLICATION_TOKEN: TOKEN })
  const code = await runCli(['backup', ...args], io)
  const last = io.stdout.at(-1) ?? 'null'
  return { code, result: JSON.parse(last) as Record<string, unknown>, stderr: io.stderr.join('\n') }
}

export async function replayVerify(dir: string): Promise<{ code: number; out: string }> {
  const io = recordingIo({})
  const code = await runCli(['replay-verify', dir], io)
  return { code, out: io.stdout.join('\n') }
}

/** The raw bytes of `count` frames of `wal` from `fromLsn`, as a leader's stream sends them. */
export function framesOf(wal: Wal, fromLsn: number, count: number): Buffer {
  const parts: Uint8Array[] = []
  for (const frame of wal.read(fromLsn, { toLsn: fromLsn + count - 1 })) parts.push(rawFrameBytes(frame).slice())
  return Buffer.concat(parts)
}

/** A leader's stream answer built by a spec: these envelopes, then the body ends. */
export function streamAnswer(envelopes: Uint8Array[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const envelope of envelopes) controller.enqueue(envelope)
      controller.close()
    },
  })
  return new Response(body, { status: 200, headers: { 'Content-Type': 'application/vnd.egress.wal-frames', 'x-egress-leader-epoch': '1' } })
}

/** A leader's stream answer built by the spec: `count` frames of its log in one envelope, then the body ends. */
export function streamOf(wal: Wal, fromLsn: number, count: number, end: 'cut' | 'close', alter?: (frames: Uint8Array) => void): Response {
  const frames = framesOf(wal, fromLsn, count)
  alter?.(frames)
  // 'cut': the source dies halfway through its next envelope (its header and part of a frame sent).
  const envelopes = [encodeEnvelope(frames, wal.lastLsn), ...(end === 'cut' ? [encodeEnvelope(frames, wal.lastLsn).subarray(0, 40)] : [])]
  return streamAnswer(envelopes)
}

/** The parent holds nothing the backup built: no DIR, no build directory left beside it. */
export function nothingLeft(parent: string): void {
  expect(readdirSync(parent)).toEqual([])
}
