/** `egress serve` run as a process that is expected to refuse at its start: what the serve refusal specs read of it. */

import { resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '../../..')
const EXIT_DEADLINE_MS = 15_000

/**
 * Runs `egress serve` with `args`, `env` over this process's, and waits up to 15 s for it to exit (killed if it has
 * not). Its exit code (or 'still running after 15 s') and its stderr, trimmed.
 */
export async function serveRefusal(args: string[], env: Record<string, string>): Promise<{ code: number | string; stderr: string }> {
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    const code = await Promise.race([child.exited, Bun.sleep(EXIT_DEADLINE_MS).then(() => `still running after ${EXIT_DEADLINE_MS / 1000} s`)])
    if (child.exitCode === null) child.kill('SIGKILL')
    const stderr = (await new Response(child.stderr as ReadableStream).text()).trim()
    return { code, stderr }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}
