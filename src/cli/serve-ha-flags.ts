/**
 * The HA flags of `egress serve` (--role, --lease-dir, --node-id, --advertise-url, --lease-ttl-ms, --clock-skew-ms,
 * --venue, --sync-replication, --sync-timeout-ms, --accept-data-loss) and the replication token, checked before
 * anything is started (serve-ha.ts runs the node with them).
 */

import { directoryProblem, haCursorSecret } from '../config/index.ts'
import { SYNC_POLICIES, type RoleChoice, type SyncPolicy } from '../runtime/ha/index.ts'
import { sourceUrlOf } from '../runtime/backup/source-url.ts'
import { NODE_ID_CHARS_MAX, NODE_ID_PATTERN } from '../../wal/index.ts'
import { integerOption, UsageError, type CliIo } from './command.ts'

export interface HaFlags {
  role: string | undefined
  leaseDir: string | undefined
  nodeId: string | undefined
  advertiseUrl: string | undefined
  leaseTtlMs: string | undefined
  clockSkewMs: string | undefined
  venue: string | undefined
  syncReplication: string | undefined
  syncTimeoutMs: string | undefined
  /** --accept-data-loss: may take the lease with a log below the lease record's floor (src/runtime/ha/takeover-guard.ts). */
  acceptDataLoss?: boolean | undefined
}

const ROLES: readonly RoleChoice[] = ['auto', 'leader', 'standby']

/** The HA flags checked (parseHaFlags), with the replication token from the environment. */
export interface HaSettings {
  role: RoleChoice
  leaseDir: string
  nodeId: string | undefined
  advertiseUrl: string | undefined
  token: string
  /** What this node seals list cursors with: derived from the token, never the token itself (config/ha-cursor-secret.ts). */
  cursorSecret: string
  leaseTtlMs: number
  clockSkewMsMax: number
  venueAddress: { hostname: string; port: number } | null
  syncPolicy: SyncPolicy
  syncTimeoutMs: number
  acceptDataLoss: boolean
}

/**
 * Checks the HA flags and the replication token, throwing UsageError on the first mistake. Called before the config
 * is loaded: a usage error is the command line's, and is reported as one whatever the config (or its absence) holds.
 */
export function parseHaFlags(flags: HaFlags, env: CliIo['env']): HaSettings {
  const role = (flags.role ?? 'auto') as RoleChoice
  if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(flags.role)}`)
  if (flags.leaseDir === undefined) throw new UsageError('--role needs --lease-dir (the lease directory shared by the nodes)')
  // Empty, the lease was taken in the working directory (review); a file there fails only after the data dir was written.
  if (flags.leaseDir.trim() === '') throw new UsageError('--lease-dir is empty; give the lease directory shared by the nodes')
  refuseLeaseDirPath(flags.leaseDir)
  const token = env.EGRESS_REPLICATION_TOKEN ?? ''
  if (token.length < 16) throw new UsageError('HA needs EGRESS_REPLICATION_TOKEN (a shared secret of at least 16 characters)')
  const leaseTtlMs = integerOption('lease-ttl-ms', flags.leaseTtlMs, 5_000, [200, 600_000])
  const clockSkewMsMax = integerOption('clock-skew-ms', flags.clockSkewMs, 500, [0, 60_000])
  const venueAddress = parseVenue(flags.venue)
  const syncPolicy = (flags.syncReplication ?? 'off') as SyncPolicy
  if (!SYNC_POLICIES.includes(syncPolicy)) throw new UsageError(`--sync-replication must be one of ${SYNC_POLICIES.join(', ')}, got ${JSON.stringify(flags.syncReplication)}`)
  const syncTimeoutMs = integerOption('sync-timeout-ms', flags.syncTimeoutMs, 1_000, [10, 60_000])
  const nodeId = parseNodeId(flags.nodeId)
  const advertiseUrl = parseAdvertiseUrl(flags.advertiseUrl)
  // Last: the derivation costs some tens of ms, spent only once every flag is known good.
  const cursorSecret = haCursorSecret(token)
  const acceptDataLoss = flags.acceptDataLoss === true
  return { role, leaseDir: flags.leaseDir, nodeId, advertiseUrl, token, cursorSecret, leaseTtlMs, clockSkewMsMax, venueAddress, syncPolicy, syncTimeoutMs, acceptDataLoss }
}

/**
 * The node id, written into the lease with the advertise URL after it: at most NODE_ID_CHARS_MAX characters, no control
 * characters. A 100,000-character one stopped the node with node's "ENAMETOOLONG: name too long, open …" (the lease's
 * temp file is named after it); one with a line break went into the lease and split every log line that names it.
 */
function parseNodeId(nodeId: string | undefined): string | undefined {
  if (nodeId === undefined) return undefined
  if (!NODE_ID_PATTERN.test(nodeId)) {
    throw new UsageError(`--node-id: expected 1 to ${NODE_ID_CHARS_MAX} characters, no control characters, got ${JSON.stringify(nodeId.slice(0, 40))}${nodeId.length > 40 ? '…' : ''}`)
  }
  return nodeId
}

/**
 * The URL the other node reaches this one at: http(s), no whitespace (the lease holds "NODE_ID URL" and the follower
 * takes the last word as the URL). Taken as given before: "ftp://x" and "http://a b" started a leader no standby could
 * ever reach (it fetched "ftp://x", or "b").
 */
function parseAdvertiseUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  let parsed: URL | null = null
  try {
    parsed = /\s/.test(url) ? null : new URL(url)
  } catch {
    parsed = null
  }
  if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || url.length > 2048) {
    throw new UsageError(`--advertise-url: expected an http:// or https:// URL without spaces, got ${JSON.stringify(url.slice(0, 80))}`)
  }
  // What a follower takes from the lease (ha/lease-dir.ts leaderUrlIn): a URL with credentials, a query or a fragment
  // would be named by no node as the leader, and no standby would ever follow this one.
  const checked = sourceUrlOf(url)
  if ('invalid' in checked) throw new UsageError(`--advertise-url: ${checked.invalid}, got ${JSON.stringify(url.slice(0, 80))}`)
  return url
}

/**
 * Missing (the start makes it) or a directory (config/load.ts directoryProblem, as the config's directories). Only a
 * file was refused here: a path under a file, a symbolic link loop or under a link to nowhere passed (existsSync says
 * false), and the node took the data dir's lock and wrote its secrets before the lease's mkdir failed, exit 1.
 */
function refuseLeaseDirPath(dir: string): void {
  const problem = directoryProblem(dir)
  if (problem !== null) throw new UsageError(`--lease-dir ${dir}: ${problem}`)
}

function parseVenue(spec: string | undefined): { hostname: string; port: number } | null {
  if (spec === undefined) return null
  const match = /^jsonl:\/\/([^:/]+):(\d+)$/.exec(spec)
  if (match === null) throw new UsageError(`--venue must be jsonl://HOST:PORT, got ${JSON.stringify(spec)}`)
  // Out of range it passed, and the node took the lease and wrote the data dir before its venue client failed, after
  // ten seconds of "SocketOptions.port must be in the range", exit 1.
  const port = Number(match[2])
  if (!(port >= 1 && port <= 65_535)) throw new UsageError(`--venue: expected a port between 1 and 65535, got ${JSON.stringify(spec)}`)
  return { hostname: match[1] as string, port }
}
