/**
 * The software bill of materials (spec §11, supply chain): a CycloneDX SBOM of egress's runtime dependencies — what
 * the compiled binary carries — as npm itself derives it from package-lock.json (`npm sbom --sbom-format cyclonedx
 * --omit dev --package-lock-only`: no network, no node_modules needed; devDependencies such as bun and typescript
 * left out). Two things are set on npm's document: the top component's name (npm names it after the directory it runs
 * in) and, given --commit, the build commit as a property, which ties the SBOM to one binary.
 *
 *   bun scripts/sbom.ts [--out FILE] [--commit COMMIT]     (default FILE: dist/egress.sbom.json)
 *
 * Progress on stderr; the last stdout line is one JSON object: the file written and the components listed.
 */

import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const ROOT = resolve(import.meta.dir, '..')
export const SBOM_PATH_DEFAULT = join(ROOT, 'dist', 'egress.sbom.json')
/** The CycloneDX property naming the commit of the binary this SBOM was written with. */
export const COMMIT_PROPERTY = 'egress:build:commit'
const NPM_TIMEOUT_MS = 60_000

interface CycloneDx {
  bomFormat: string
  metadata: { component: { name: string; properties?: { name: string; value: string }[] } }
  components: { name: string; version: string; group?: string }[]
}

/** npm's CycloneDX SBOM of the runtime dependencies in `rootDir`'s package-lock.json, made as described above. */
export function runtimeSbom(options: { rootDir: string; commit?: string }): CycloneDx {
  const npm = spawnSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev', '--package-lock-only'], {
    cwd: options.rootDir, encoding: 'utf8', timeout: NPM_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024,
  })
  if (npm.error !== undefined || npm.status !== 0) {
    throw new Error(`npm sbom failed (${npm.error?.message ?? `exit ${npm.status}`}): ${(npm.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`)
  }
  const sbom = JSON.parse(npm.stdout) as CycloneDx
  if (sbom.bomFormat !== 'CycloneDX' || !Array.isArray(sbom.components)) throw new Error('npm sbom did not answer with a CycloneDX document')
  const packageJson = JSON.parse(readFileSync(join(options.rootDir, 'package.json'), 'utf8')) as { name: string }
  sbom.metadata.component.name = packageJson.name
  if (options.commit !== undefined) {
    const properties = sbom.metadata.component.properties ?? []
    sbom.metadata.component.properties = [...properties.filter((property) => property.name !== COMMIT_PROPERTY), { name: COMMIT_PROPERTY, value: options.commit }]
  }
  return sbom
}

/** Writes the SBOM to `outPath` (temp file, then rename: a reader never sees half a file); returns its component count. */
export function writeSbom(options: { rootDir: string; outPath: string; commit?: string }): number {
  const sbom = runtimeSbom(options)
  mkdirSync(dirname(options.outPath), { recursive: true })
  const temp = `${options.outPath}.${process.pid}.tmp`
  writeFileSync(temp, `${JSON.stringify(sbom, null, 2)}\n`)
  renameSync(temp, options.outPath)
  return sbom.components.length
}

if (import.meta.main) {
  try {
    const { values } = parseArgs({ options: { out: { type: 'string' }, commit: { type: 'string' } }, strict: true })
    const outPath = resolve(values.out ?? SBOM_PATH_DEFAULT)
    const components = writeSbom({ rootDir: ROOT, outPath, ...(values.commit === undefined ? {} : { commit: values.commit }) })
    process.stderr.write(`sbom: ${components} runtime components written to ${outPath}\n`)
    process.stdout.write(`${JSON.stringify({ sbom: outPath, components })}\n`)
  } catch (error) {
    process.stderr.write(`sbom: FAILED: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
}
