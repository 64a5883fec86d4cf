/** `egress sim-venue` as a child process for the specs that need the real command (its signals, its options). */

import { resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '../..')

/**
 * Starts `egress sim-venue --port 0 …extra` (after `prefix`, e.g. `nohup`; with `env`) from a checkout and resolves once it says
 * "listening on HOST:PORT", with its port; rejects with its stderr if it ends first.
 */
export async function startSimVenue(
  extra: string[] = [],
  prefix: string[] = [],
  env: Record<string, string | undefined> = process.env,
): Promise<{ child: Bun.Subprocess<'ignore', 'pipe', 'pipe'>; port: number }> {
  const child = Bun.spawn([...prefix, process.execPath, 'src/main.ts', 'sim-venue', '--port', '0', ...extra], { cwd: ROOT, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const reader = child.stdout.getReader()
  let text = ''
  while (!text.includes('listening on')) {
    const chunk = await reader.read()
    if (chunk.done) throw new Error(`sim-venue ended before listening: ${await new Response(child.stderr).text()}`)
    text += new TextDecoder().decode(chunk.value)
  }
  reader.releaseLock()
  return { child, port: Number(/listening on [^:]+:(\d+)/.exec(text)?.[1]) }
}
