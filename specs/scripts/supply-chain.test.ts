/**
 * Supply chain (spec §11): every dependency in package.json is pinned to one exact version, the lock names that
 * version with an integrity hash, and the SBOM (scripts/sbom.ts, npm's CycloneDX) lists exactly the runtime
 * dependencies — those the lock does not mark dev — at their locked versions.
 */

import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { runtimeSbom } from '../../scripts/sbom.ts'

const ROOT = resolve(import.meta.dir, '../..')
const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/
/** The lock's hash of the tarball: sha512 (npm's default) or at least sha256-style SRI. */
const INTEGRITY = /^sha(?:512|384|256)-[A-Za-z0-9+/]+=*$/

interface PackageJson { name: string; dependencies: Record<string, string>; devDependencies: Record<string, string> }
interface LockEntry { version?: string; integrity?: string; dev?: boolean; devOptional?: boolean; link?: boolean }
interface Lock { lockfileVersion: number; packages: Record<string, LockEntry> }

const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock

/** The package name a lock key (`node_modules/a/node_modules/@b/c`) installs. */
function nameOf(key: string): string {
  return key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)
}

/** Dependencies listed by package.json that are not pinned to one exact version, or not so in the lock. */
function pinProblems(pkg: PackageJson, lockFile: Lock): string[] {
  const problems: string[] = []
  for (const [name, range] of [...Object.entries(pkg.dependencies), ...Object.entries(pkg.devDependencies)]) {
    if (!EXACT_VERSION.test(range)) problems.push(`${name}: "${range}" is a range, not one exact version`)
    const locked = lockFile.packages[`node_modules/${name}`]
    if (locked === undefined) problems.push(`${name}: not in package-lock.json`)
    else if (locked.version !== range) problems.push(`${name}: package.json pins ${range}, the lock holds ${locked.version}`)
  }
  return problems
}

describe('pinned dependencies', () => {
  test('every dependency in package.json is one exact version, the one the lock holds', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(3)
    expect(pinProblems(packageJson, lock)).toEqual([])
  })

  test('a caret, tilde or wildcard range, or a version the lock does not hold, is found', () => {
    const ranged = { ...packageJson, dependencies: { ...packageJson.dependencies, hono: `^${packageJson.dependencies.hono}` }, devDependencies: { ...packageJson.devDependencies, typescript: '~5.9.0', bun: '*' } }
    // Each is both a range and not the version the lock holds.
    expect(pinProblems(ranged, lock).filter((problem) => problem.includes('is a range'))).toEqual([
      `hono: "^${packageJson.dependencies.hono}" is a range, not one exact version`,
      'bun: "*" is a range, not one exact version',
      'typescript: "~5.9.0" is a range, not one exact version',
    ])
    expect(pinProblems(ranged, lock)).toHaveLength(6)
    expect(pinProblems({ ...packageJson, dependencies: { ...packageJson.dependencies, jose: '0.0.1' } }, lock)).toEqual(['jose: package.json pins 0.0.1, the lock holds ' + lock.packages['node_modules/jose']?.version])
  })

  test('every package the lock installs is checked against an integrity hash', () => {
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (key === '' || entry.link === true) continue
      expect({ key, integrity: INTEGRITY.test(entry.integrity ?? '') }).toEqual({ key, integrity: true })
    }
  })
})

describe('the SBOM', () => {
  test('lists exactly the runtime dependencies (the lock entries not marked dev) at their locked versions', () => {
    const runtime = Object.entries(lock.packages)
      .filter(([key, entry]) => key !== '' && entry.dev !== true && entry.devOptional !== true)
      .map(([key, entry]) => `${nameOf(key)}@${entry.version}`)
      .sort()
    for (const [name, version] of Object.entries(packageJson.dependencies)) expect(runtime).toContain(`${name}@${version}`)
    const sbom = runtimeSbom({ rootDir: ROOT })
    const listed = sbom.components.map((component) => `${component.group === undefined ? '' : `${component.group}/`}${component.name}@${component.version}`).sort()
    expect(listed).toEqual(runtime)
    for (const name of Object.keys(packageJson.devDependencies)) expect(listed.some((entry) => entry.startsWith(`${name}@`))).toBe(false)
    expect(sbom.metadata.component.name).toBe(packageJson.name)
  }, 60_000)
})
