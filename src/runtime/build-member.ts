/**
 * The build member of a command the runtime decides on its own (Engine.buildCommit): `{ buildCommit }`, or nothing for
 * an engine that names no build. Spread into a start's, auto-stop's, the audit's and a time-to-live's commands, which
 * are rare; a client's cancel names the gateway's build directly (gateway-commands.ts), with no object made for it.
 */

import type { Engine } from './engine.ts'

export function buildMemberOf(engine: Pick<Engine, 'buildCommit'>): { buildCommit?: string } {
  return engine.buildCommit === null ? {} : { buildCommit: engine.buildCommit }
}
