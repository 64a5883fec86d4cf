/**
 * The config digest and the build an operator's, a client's or egress's own control decision was made under, as its
 * records carry them beside the principal (§9; src/domain/events/record-parts.ts attribution): the config the kernel
 * holds (KernelState.config, the one it decided with — a place's and an amend's decision record carry the runtime's,
 * which the mode guard holds equal to it in live mode) and the build the command names. Each is set only when known:
 * no config before the first kernel.configured, no build in a command recorded before commands carried one.
 *
 * The strings are the state's and the command's own instances (the runtime passes its one build string on every
 * command), so a cancel's record costs two member references here and their bytes in the log, nothing more.
 */

import type { EventOf, EventType } from '../domain/events/index.ts'
import type { KernelState } from './state.ts'

/** What a record is attributed with; a member undefined is left out of the record. */
export interface Attribution {
  configDigest: string | undefined
  buildCommit: string | undefined
}

/** No config digest, no build: for a question whose records are not kept. */
export const UNATTRIBUTED: Attribution = Object.freeze({ configDigest: undefined, buildCommit: undefined })

/** The attribution of a decision on `command` in `state`. */
export function attributionOf(state: KernelState, command: { buildCommit?: string }): Attribution {
  return { configDigest: state.config?.digest, buildCommit: command.buildCommit }
}

/** Sets `from`'s known members on `record` (in place, so the record keeps one shape whatever is known) and returns it. */
/** The record types that carry the attribution (record-parts.ts attribution in their schema). */
export type AttributedType = { [K in EventType]: 'buildCommit' extends keyof EventOf<K> ? ('configDigest' extends keyof EventOf<K> ? K : never) : never }[EventType]

export function attributed<T extends EventOf<AttributedType>>(record: T, from: { configDigest?: string | undefined; buildCommit?: string | undefined }): T {
  const target = record as { configDigest?: string; buildCommit?: string }
  if (from.configDigest !== undefined) target.configDigest = from.configDigest
  if (from.buildCommit !== undefined) target.buildCommit = from.buildCommit
  return record
}
