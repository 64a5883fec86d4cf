import { afterEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Wal } from '../../wal/index.ts'
import { prng, removeTempDirs, tempDir, text } from './support.ts'

afterEach(removeTempDirs)

const FIXTURE = join(import.meta.dir, 'fixtures', 'crash-writer.ts')
const CYCLES = Number(process.env.WAL_CRASH_CYCLES ?? 100)

/** Runs the writer, kills it with SIGKILL after `killAfterMs` of appending, returns the acknowledged records. */
async function runAndKill(dir: string, seed: number, killAfterMs: number): Promise<Map<number, string>> {
  const child = Bun.spawn([process.execPath, FIXTURE, dir, String(seed)], { stdout: 'pipe', stderr: 'pipe' })
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  let output = ''
  let killTimer: ReturnType<typeof setTimeout> | null = null
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    output += decoder.decode(value, { stream: true })
    if (killTimer === null && output.includes('ready')) killTimer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  }
  await child.exited
  if (killTimer === null) throw new Error(`writer never became ready: ${await new Response(child.stderr).text()}`)
  const acknowledged = new Map<number, string>()
  for (const line of output.split('\n').slice(0, -1)) {
    const match = /^ack (\d+) (.+)$/.exec(line)
    if (match !== null) acknowledged.set(Number(match[1]), match[2] as string)
  }
  return acknowledged
}

describe('crash safety under SIGKILL', () => {
  test(`every acknowledged record survives ${CYCLES} kill -9 cycles byte-identical, with dense LSNs and a valid chain`, async () => {
    const seed = Number(process.env.WAL_CRASH_SEED ?? 424242)
    const random = prng(seed)
    const dir = tempDir('egress-crash-')
    const acknowledged = new Map<number, string>()
    let tornTails = 0
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const killAfterMs = 5 + Math.floor(random() * 60)
      for (const [lsn, payload] of await runAndKill(dir, cycle, killAfterMs)) acknowledged.set(lsn, payload)
      const wal = Wal.open(dir, { segmentBytesMax: 16 * 1024 })
      if (wal.recovery.tornTail !== null) tornTails++
      let expectedLsn = 1
      let matched = 0
      for (const frame of wal.read(1, { verifyChain: true })) {
        // Plain comparisons in the loop (expect() per frame would dominate the run); the first mismatch fails loudly.
        if (frame.lsn !== expectedLsn++) expect(frame.lsn, `seed ${seed} cycle ${cycle}: LSNs not dense`).toBe(expectedLsn - 1)
        const payload = acknowledged.get(frame.lsn)
        if (payload === undefined) continue
        if (text(frame.payload) !== payload) expect(text(frame.payload), `seed ${seed} cycle ${cycle} LSN ${frame.lsn}`).toBe(payload)
        matched++
      }
      expect(matched, `seed ${seed} cycle ${cycle}: acknowledged records missing`).toBe(acknowledged.size)
      const highestAcknowledged = Math.max(0, ...acknowledged.keys())
      expect(wal.lastLsn, `seed ${seed} cycle ${cycle}`).toBeGreaterThanOrEqual(highestAcknowledged)
      await wal.close()
    }
    expect(acknowledged.size).toBeGreaterThan(CYCLES)
    console.error(`crash test: seed ${seed}, ${CYCLES} kill cycles, ${acknowledged.size} acknowledged records checked, ${tornTails} torn tails truncated`)
  }, 300_000)
})
