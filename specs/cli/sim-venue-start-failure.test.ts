/**
 * `egress sim-venue` that cannot start says which option is wrong, on one line, exit 1 (review): a --record file whose
 * directory does not exist failed as node's bare "ENOENT: no such file or directory, open '…'", and a --port another
 * program holds as Bun's "Failed to listen at 127.0.0.1", naming neither the port nor --port.
 */

import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-sim-venue-start-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function simVenue(options: string[]): Promise<{ code: number | string; stderr: string }> {
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'sim-venue', ...options], { cwd: ROOT, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
  try {
    const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])
    return { code, stderr: (await new Response(child.stderr).text()).trim() }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}

test('a --record file in a directory that does not exist: exit 1 naming --record', async () => {
  const record = join(dir, 'absent', 'places.jsonl')
  expect(await simVenue(['--port', '0', '--record', record])).toEqual({
    code: 1,
    stderr: `egress sim-venue: --record ${JSON.stringify(record)}: cannot open it to append (ENOENT)`,
  })
}, 30_000)

test('a --port another program holds: LISTEN_FAILED naming the address, exit 1', async () => {
  const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  try {
    expect(await simVenue(['--port', String(holder.port)])).toEqual({
      code: 1,
      stderr: `egress sim-venue: LISTEN_FAILED: cannot listen on 127.0.0.1:${holder.port} (EADDRINUSE): give a free --port (0 picks one) and a --host that is an address of this machine`,
    })
  } finally {
    holder.stop(true)
  }
}, 30_000)
