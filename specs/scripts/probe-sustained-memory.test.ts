/**
 * probe:sustained-memory reads its slope (KB of heap per order once both caps are reached) between the first checkpoint
 * at or past the kernel's cap plus the back office's margin and the last. Arguments that leave fewer than two such
 * checkpoints are refused before any run starts: with one, the slope was read over no orders and printed as 0 KB per
 * order (and the uncapped/capped ratio as null), a bounded heap the probe had not measured.
 */

import { expect, test } from 'bun:test'
import { resolve } from 'node:path'

const SCRIPT = resolve(import.meta.dir, '../../scripts/probe-sustained-memory.ts')

async function refusal(args: string[]): Promise<{ exitCode: number | null; stderr: string }> {
  // A refusal comes before any run: the timeout only stops a probe that started one. Asked for one run (--child: the
  // arguments are checked as the parent checks them), so a probe that does start is this process alone.
  const proc = Bun.spawn([process.execPath, SCRIPT, ...args], { stdout: 'ignore', stderr: 'pipe', timeout: 4_000 })
  const stderr = await new Response(proc.stderr).text()
  return { exitCode: await proc.exited, stderr }
}

test('arguments leaving one checkpoint past both caps are refused: no slope to read', async () => {
  // 24,000 orders in 4 checkpoints: 6,000, 12,000, 18,000, 24,000 — only the last at or past 10,000 + 10,000.
  const refused = await refusal(['--child', 'capped', '--orders', '24000', '--cap', '10000', '--checkpoints', '4'])
  expect(refused.exitCode).toBe(1)
  expect(refused.stderr).toContain('--checkpoints: at least two must fall at or past --cap plus 10000 (20000 orders)')
})
