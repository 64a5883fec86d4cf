/**
 * `egress serve` and `egress sim-venue` on a port another process holds: each exits 1 after the error, where both hung.
 *
 * serve: the error, then exit 1, refused before anything is written (an address taken during the start: the gateway stopped, the log closed, so a start on a free port takes the data dir at once). The gateway (log, threads, timers) was already running when Bun.serve refused the
 * port, and nothing stopped it: serve printed "Failed to start server" and hung, holding the log's lock.
 */

import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from '../../scripts/support/loopback.ts'

const ROOT = resolve(import.meta.dir, '../..')
const dir = mkdtempSync(join(tmpdir(), 'egress-serve-port-taken-'))

afterAll(() => rmSync(dir, { recursive: true, force: true }))

function serve(port: number) {
  return Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: dir, PORT: String(port), EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
}

test('a taken port exits 1 naming it, and leaves the data dir to the next start', async () => {
  const holder = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('taken') })
  const taken = holder.port as number
  const child = serve(taken)
  try {
    const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])
    expect(code).toBe(1)
    const stderr = await new Response(child.stderr as ReadableStream).text()
    // The code first, then Bun's words, then how to start on another port (before: Bun's words alone).
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(
      `egress serve: LISTEN_FAILED: cannot listen on 127.0.0.1:${taken}: Failed to start server. Is port ${taken} in use? The gateway was not started; ` +
        `another program holds the port (another egress?): start this one on a free port, PORT=${taken + 1} (config "port"), or stop that program; ` +
        'if the port is free, check that EGRESS_HOST (config "host") is an address of this machine',
    )
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
    holder.stop(true)
  }
  const port = await freePort()
  const next = serve(port)
  try {
    await waitFor('the next serve to answer /health', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok)
    next.kill('SIGTERM')
    expect(await next.exited).toBe(0)
  } finally {
    if (next.exitCode === null) next.kill('SIGKILL')
    await next.exited
  }
}, 60_000)

/**
 * An address that is no address of this machine (EGRESS_HOST) was found only once the gateway was up: the data
 * directory made, its secrets, local seal key and log written, bootstrap run. It is refused before anything is written.
 */
test('a host that is not an address of this machine exits 1 LISTEN_FAILED before anything is written', async () => {
  const dataDir = join(dir, 'unbindable')
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
    cwd: ROOT,
    // 192.0.2.1: TEST-NET-1 (RFC 5737), never an address of this machine.
    env: { ...process.env, EGRESS_DATA_DIR: dataDir, EGRESS_HOST: '192.0.2.1', PORT: String(await freePort()), EGRESS_WAL_DURABILITY: 'none' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    expect(await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])).toBe(1)
    const stderr = (await new Response(child.stderr as ReadableStream).text()).trimEnd().split('\n')
    expect(stderr).toHaveLength(1)
    expect(stderr[0]).toStartWith('egress serve: LISTEN_FAILED: cannot listen on 192.0.2.1:')
    expect(stderr[0]).toContain('The gateway was not started; check that EGRESS_HOST (config "host") is an address of this machine')
    expect(existsSync(dataDir)).toBe(false)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
  }
}, 30_000)

test('an HA node on a taken port exits 1 with the same LISTEN_FAILED refusal (review: Bun\'s bare message)', async () => {
  const holder = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('taken') })
  const taken = holder.port as number
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'serve', '--lease-dir', join(dir, 'lease')], {
    cwd: ROOT,
    env: { ...process.env, EGRESS_DATA_DIR: join(dir, 'ha'), PORT: String(taken), EGRESS_WAL_DURABILITY: 'none', EGRESS_REPLICATION_TOKEN: 'port-taken-replication-token' },
    stdout: 'ignore',
    stderr: 'pipe',
  })
  try {
    expect(await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])).toBe(1)
    const last = (await new Response(child.stderr as ReadableStream).text()).trimEnd().split('\n').at(-1)
    expect(last).toStartWith(`egress serve: LISTEN_FAILED: cannot listen on 127.0.0.1:${taken}: `)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
    holder.stop(true)
  }
}, 60_000)

/** sim-venue: its price interval started before the port was bound, and kept the process alive after the error. */
test('sim-venue on a taken port exits 1 naming the address', async () => {
  const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data: () => {} } })
  const child = Bun.spawn([process.execPath, 'src/main.ts', 'sim-venue', '--port', String(holder.port)], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
  try {
    const code = await Promise.race([child.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])
    expect(code).toBe(1)
    expect(await new Response(child.stdout as ReadableStream).text()).toBe('')
    expect((await new Response(child.stderr as ReadableStream).text()).trimEnd()).toBe(
      `egress sim-venue: LISTEN_FAILED: cannot listen on 127.0.0.1:${holder.port} (EADDRINUSE): give a free --port (0 picks one) and a --host that is an address of this machine`,
    )
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await child.exited
    holder.stop(true)
  }
}, 30_000)
