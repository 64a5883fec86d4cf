/**
 * The config digest recorded in the log and in every decision record (DESIGN §7): SHA-256 over a canonical JSON of
 * the effective config. Canonical means object keys sorted at every depth, arrays in order, no whitespace, so the
 * same config always gives the same digest whatever order a file listed its fields in. Secret values never enter the
 * canonical form; their SHA-256 does, so rotating a secret still changes the digest.
 */

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { SECRET_PATHS, type Config } from './schema.ts'

/** Hex SHA-256 of `canonicalConfigJson(config)`. */
export function configDigest(config: Config): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalConfigJson(config))))
}

/** The canonical JSON the digest is computed over, with secrets replaced by `sha256:<hex>`. */
export function canonicalConfigJson(config: Config): string {
  return canonicalJson(config, '')
}

function canonicalJson(value: unknown, path: string): string {
  if (typeof value === 'string' && SECRET_PATHS.has(path)) {
    return JSON.stringify(`sha256:${bytesToHex(sha256(utf8ToBytes(value)))}`)
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, index) => canonicalJson(item, join(path, String(index)))).join(',')}]`
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item, join(path, key))}`)
    return `{${entries.join(',')}}`
  }
  // Config leaves are strings, integers and booleans only; JSON.stringify is canonical for those.
  return JSON.stringify(value)
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}
