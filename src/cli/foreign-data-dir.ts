/**
 * `egress serve` refuses a data directory that is some other program's: one holding entries an egress data directory
 * never has and none of the marks of one (DATA_DIR_FOREIGN). It used to write into it — DATA_DIR_LOCK, log/,
 * snapshots/, backoffice.sqlite, auth/ — among a project's sources or a home directory's files (EGRESS_DATA_DIR=. or
 * $HOME by mistake), where a later clean-up of either could take the log with it.
 *
 * Accepted as they are: an absent or empty directory (a first start); one holding only what an egress data dir holds
 * (a start interrupted before its log existed, a token's auth/hs256.secret, an HA node's set-aside logs and swap
 * files, archive/, quarantine/, forensics/) and harmless entries (JSON files — a config, seal keys, anchors —, a
 * volume's lost+found), and the entries holding what serve was given (its config, seal keys…; never its lease
 * directory, refused there: lease-dir-place.ts); and
 * any directory with a mark of a data dir (its lock, a log with segments, a snapshot, the query model, a swap's commit
 * file), whatever else an operator keeps beside it.
 */

import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { LOG_LOCK_FILE, parseSegmentName } from '../../wal/index.ts'
import { ConfigError, type Config } from '../config/index.ts'
import { DATA_DIR_LOCK_FILE, interruptedSwapsIn } from '../runtime/ha/index.ts'
import { STORED_QUERY_MODEL } from '../runtime/snapshot/index.ts'

/** How many of the unexpected entries the error names. */
const ENTRIES_NAMED_MAX = 5

/** Names an egress data dir holds (or an HA node's swap leaves), none of which marks a directory as one on its own. */
const EGRESS_NAMES = /^(log|snapshots)(\..+)?$|^(auth|audit|archive|quarantine|forensics)$|^backoffice\.sqlite.*$|^(diverged-prefix|snapshot-recovery)\.commit$/
/** Entries that tell nothing about whose a directory is. */
const HARMLESS_NAMES = /^(lost\+found|\.DS_Store|\.gitkeep|\.keep)$|\.json$/
/** The same in log/ (a JSON file there is not a config kept beside the data): a volume of its own mounted there, a kept empty dir. */
const HARMLESS_IN_LOG = /^(lost\+found|\.DS_Store|\.gitkeep|\.keep)$/

/** `serve` or `token` was pointed at a directory holding another program's files (DATA_DIR_FOREIGN); nothing was written. */
export class DataDirForeignError extends Error {
  override readonly name = 'DataDirForeignError'
  readonly code = 'DATA_DIR_FOREIGN'

  constructor(
    readonly dataDir: string,
    /** The entries that are not an egress data dir's, sorted. */
    readonly entries: readonly string[],
  ) {
    const named = entries.slice(0, ENTRIES_NAMED_MAX).map((name) => JSON.stringify(name)).join(', ')
    const more = entries.length > ENTRIES_NAMED_MAX ? ` and ${entries.length - ENTRIES_NAMED_MAX} more` : ''
    super(`DATA_DIR_FOREIGN: ${dataDir} is not an egress data directory: it holds ${named}${more}, and no log, snapshot or DATA_DIR_LOCK; nothing was written. Give an empty or new directory (config dataDir, EGRESS_DATA_DIR), or the data directory of an earlier run`)
  }
}

/**
 * Throws DataDirForeignError if `dataDir` holds entries foreign to a data dir and no mark of one (file comment).
 * `givenPaths`: paths the command was given that may lie in the data dir (its config file, the files and
 * directories its config names), which are never foreign there: neither is the entry of the
 * data dir one of them lies in (`egress keygen --out data/keys` then `audit.signingKeyFile: data/keys/…`).
 */
export function refuseForeignDataDir(dataDir: string, givenPaths: readonly string[] = []): void {
  if (!existsSync(dataDir)) return
  const given = new Set(givenPaths.flatMap((path) => entryHolding(dataDir, path)))
  const names = entriesOf(dataDir)
  const foreign = names.filter((name) => !EGRESS_NAMES.test(name) && !HARMLESS_NAMES.test(name) && !given.has(name))
  if (names.includes('log') && !given.has('log')) foreign.push(...foreignInLog(join(dataDir, 'log')))
  foreign.sort()
  if (foreign.length === 0 || isEgressDataDir(dataDir, names)) return
  throw new DataDirForeignError(dataDir, foreign)
}

/**
 * The files and directories `config` names, which an operator may keep in the data dir and which exist before its
 * first start: the seal keys (`egress keygen --out DIR`), the JWKS, the forensics and archive directories, the anchors file.
 */
export function pathsNamedBy(config: Config): string[] {
  const { audit, auth, snapshots } = config
  return [audit.signingKeyFile, audit.publicKeyFile, audit.forensicsDir, audit.anchorsFile, auth.jwksFile, auth.scrapeTokenFile, snapshots?.archiveDir].filter((path) => path !== undefined)
}

/** The name of the data dir's entry that is `path` or holds it; none when `path` lies outside the data dir. */
function entryHolding(dataDir: string, path: string): string[] {
  const [first] = relative(resolve(dataDir), resolve(path)).split(sep)
  return first === undefined || first === '' || first === '..' ? [] : [first]
}

/**
 * Whether the directory bears a mark only egress leaves: its lock file, a log directory with a segment or the log's
 * lock, a snapshot or the snapshot manifest, the query model, a swap's commit file. Not the HS256 secret: `egress token`
 * generates it wherever the data dir it was given points, so `EGRESS_DATA_DIR=. egress token` in a checkout made the
 * checkout pass for a data dir, and `serve` then wrote its log there — the mistake this refusal is for.
 */
function isEgressDataDir(dataDir: string, names: readonly string[]): boolean {
  if (names.includes(DATA_DIR_LOCK_FILE) || names.includes(STORED_QUERY_MODEL)) return true
  if (holdsAny(join(dataDir, 'log'), (name) => name === 'LOCK' || parseSegmentName(name) !== null)) return true
  if (holdsAny(join(dataDir, 'snapshots'), (name) => name === 'MANIFEST.json' || name.endsWith('.snap'))) return true
  return interruptedSwapsIn(dataDir).length > 0
}

/** The data directory's entries; one that cannot be listed (EACCES, ENOTDIR) is a config error naming dataDir, not a raw errno. */
function entriesOf(dataDir: string): string[] {
  try {
    return readdirSync(dataDir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error'
    throw new ConfigError([{ path: 'dataDir', message: `${dataDir} cannot be listed (${code}): give a directory this user may read and write` }])
  }
}

/**
 * What a `log` entry holds that the log never writes (its segments, a roll's `.seg.tmp`, its LOCK) and that tells
 * something (HARMLESS_IN_LOG: the log on a volume of its own has its lost+found, refused at its first start), as
 * `log/NAME`; the entry itself when it is not a directory. Only the top level's names were looked at: a directory
 * holding `log/app.log` and a `settings.json` (a program's data dir) passed for one, and serve wrote its segments there.
 */
function foreignInLog(dir: string): string[] {
  try {
    if (!statSync(dir).isDirectory()) return ['log']
    return readdirSync(dir).filter((name) => name !== LOG_LOCK_FILE && !HARMLESS_IN_LOG.test(name) && parseSegmentName(name.replace(/\.tmp$/, '')) === null).map((name) => `log/${name}`)
  } catch {
    return []
  }
}

function holdsAny(dir: string, matches: (name: string) => boolean): boolean {
  try {
    return statSync(dir).isDirectory() && readdirSync(dir).some(matches)
  } catch {
    return false
  }
}
