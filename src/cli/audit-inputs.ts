/**
 * What `egress audit verify DIR` (and `audit anchor DIR`) checks a data directory against when not told: the anchors
 * its single node appended (`DIR/audit/anchors.jsonl`, the default audit.anchorsFile, and `anchors.jsonl.1`, the part
 * the anchor writer rotated out: anchor-writer.ts) and the public half of its local seal key
 * (`DIR/audit/seal-ed25519.public.jwk.json`: local-key.ts). Verify read neither unless given --anchors and
 * --public-key, so an auditor who ran `egress audit verify DIR --no-signatures` on a data directory got CLEAN for a log
 * cut short below its own anchors. A log directory given as DIR has no audit/ of its own: nothing is found for it.
 */

import { statSync } from 'node:fs'
import { join } from 'node:path'
import { ANCHORS_FILE_DEFAULT, AUDIT_DATA_DIR, PUBLIC_KEY_FILE, readAnchorsFile, type Anchor } from '../audit/index.ts'

/** The data directory's own anchors files that exist, oldest first (the rotated `.1`, then the current one). */
export function ownAnchorsFiles(dataDir: string): string[] {
  const path = join(dataDir, AUDIT_DATA_DIR, ANCHORS_FILE_DEFAULT)
  return [`${path}.1`, path].filter(isFile)
}

/** The data directory's local seal public key, if it has one. */
export function ownPublicKeyFile(dataDir: string): string | null {
  const path = join(dataDir, AUDIT_DATA_DIR, PUBLIC_KEY_FILE)
  return isFile(path) ? path : null
}

export interface AnchorsRead {
  anchors: Anchor[]
  files: string[]
  /** The data directory's own files, found rather than given. */
  own: boolean
  /** Files whose torn last line (no line break, not an anchor) was skipped, with its line number. */
  tornLastLines: string[]
}

/**
 * The anchors of `files`, in order. A file given with --anchors is read strictly; the data directory's own files
 * (`own`) may end in a torn line, as the gateway leaves one when copied mid-append or cut by a power loss (its next
 * append cuts it off): it is skipped and said, rather than the whole verification refused.
 */
export function readAnchorsFiles(files: readonly string[], options: { own: boolean }): AnchorsRead {
  const tornLastLines: string[] = []
  const anchors = files.flatMap((file) =>
    readAnchorsFile(file, options.own ? { onTornLastLine: (line) => void tornLastLines.push(`${file} line ${line}`) } : {}),
  )
  return { anchors, files: [...files], own: options.own, tornLastLines }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
