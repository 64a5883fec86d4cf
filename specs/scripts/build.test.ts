/**
 * `bun run build` (scripts/build.ts): the binary carries the commit it was built from and records it whatever its
 * environment claims (spec §9), and its SBOM is written next to it (§11). Compiles a real binary into a temp dir.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { commitToEmbed } from '../../scripts/build.ts'
import { COMMIT_PROPERTY } from '../../scripts/sbom.ts'
import { gitCommitOf } from '../../src/cli/build-info.ts'

const ROOT = resolve(import.meta.dir, '../..')
const HEX = 'a'.repeat(40)

describe('commitToEmbed', () => {
  test("git's commit, and the builder's variable only where there is no git — never one that differs", () => {
    expect(commitToEmbed({ commit: HEX, dirty: true }, undefined)).toEqual({ commit: HEX, dirty: true })
    expect(commitToEmbed({ commit: HEX, dirty: false }, HEX)).toEqual({ commit: HEX, dirty: false })
    expect(() => commitToEmbed({ commit: HEX, dirty: false }, 'b'.repeat(40))).toThrow(`but this checkout is at ${HEX}`)
    expect(commitToEmbed(null, HEX)).toEqual({ commit: HEX, dirty: false })
    expect(() => commitToEmbed(null, undefined)).toThrow('set EGRESS_BUILD_COMMIT to the commit of this source')
    expect(() => commitToEmbed(null, 'v1.0')).toThrow('malformed')
  })
})

const checkout = gitCommitOf(ROOT)
const dir = mkdtempSync(join(tmpdir(), 'egress-build-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test.skipIf(checkout === null)('the built binary reports the checkout commit as embedded, and EGRESS_BUILD_COMMIT cannot change it; its SBOM sits next to it', () => {
  const outfile = join(dir, 'egress')
  const built = Bun.spawnSync([process.execPath, 'scripts/build.ts', '--outfile', outfile], { cwd: ROOT, env: { ...process.env, EGRESS_BUILD_COMMIT: '' } })
  expect(built.exitCode).toBe(0)
  const summary = JSON.parse(built.stdout.toString().trim().split('\n').at(-1) ?? '') as Record<string, unknown>
  expect(summary).toEqual({ binary: outfile, commit: checkout?.commit, dirty: checkout?.dirty, sbom: `${outfile}.sbom.json` })

  const claimed = 'f'.repeat(40)
  const ran = Bun.spawnSync([outfile, 'version'], { cwd: dir, env: { ...process.env, EGRESS_BUILD_COMMIT: claimed } })
  expect(ran.exitCode).toBe(0)
  const version = JSON.parse(ran.stdout.toString().trim().split('\n').at(-1) ?? '') as Record<string, unknown>
  expect(version).toMatchObject({ commit: checkout?.commit, dirty: checkout?.dirty, commit_source: 'embedded' })
  expect(ran.stderr.toString()).toContain(`EGRESS_BUILD_COMMIT=${claimed} ignored`)

  expect(existsSync(`${outfile}.sbom.json`)).toBe(true)
  const sbom = JSON.parse(readFileSync(`${outfile}.sbom.json`, 'utf8')) as { bomFormat: string; metadata: { component: { name: string; properties: { name: string; value: string }[] } } }
  expect(sbom.bomFormat).toBe('CycloneDX')
  expect(sbom.metadata.component.name).toBe('egress')
  expect(sbom.metadata.component.properties).toContainEqual({ name: COMMIT_PROPERTY, value: checkout?.commit ?? '' })
}, 120_000)
