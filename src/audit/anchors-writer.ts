/**
 * Who wrote a line of a gateway's anchors file: whether an HA node (`ha`) and the log's durability. A start judges its
 * anchors file (LOG_BEHIND_ANCHOR, runtime/anchors-behind.ts) only on a single node under durability `fsync`; an offline
 * check (`egress replay-verify DIR`) has no config, so every line the gateway writes (start lines, periodic and
 * shutdown anchors) says it, as two more members of the JSON line (readers ignore members they do not know: every
 * anchors schema is loose). Lines of an older build, or written by hand, say nothing: null.
 */

import * as v from 'valibot'
import type { Durability } from '../../wal/index.ts'

export interface AnchorsWriter {
  /** Written by an HA node (a gateway started with an HA role or a lease). */
  readonly ha: boolean
  readonly durability: Durability
}

/** The members a line may carry (anchors-end.ts reads them with the rest of the line). */
export const ANCHORS_WRITER_ENTRIES = {
  ha: v.optional(v.boolean()),
  durability: v.optional(v.picklist(['fsync', 'none'])),
}

/** The writer a line names, or null when it names none (or only half of one). */
export function anchorsWriterOf(line: { readonly ha?: boolean | undefined; readonly durability?: Durability | undefined }): AnchorsWriter | null {
  return line.ha === undefined || line.durability === undefined ? null : { ha: line.ha, durability: line.durability }
}
