/**
 * `egress backup --from URL --out DIR`: a consistent copy of a running leader's data dir, over its replication routes
 * (src/runtime/backup/take-backup.ts). Progress on stderr; the last stdout line is one JSON object, the report or the
 * error's code. A failure leaves no DIR.
 */

import { SNAPSHOT_RECOVERY_DEFAULTS } from '../runtime/ha/resync.ts'
import { BackupError, sourceUrlOf, takeBackup, type BackupErrorCode } from '../runtime/backup/index.ts'
import { EXIT_DATA_ERROR, EXIT_FAILURE, EXIT_IO_ERROR, EXIT_OK, integerOption, parseOptions, UsageError, type CliIo, type Command } from './command.ts'

/** How long the source may stay silent by default (each request, each wait for the stream's next envelope or SILENCE_PROGRESS_BYTES). */
export const BACKUP_TIMEOUT_MS_DEFAULT = 30_000
/** The largest envelope accepted, as a serve standby's (serve-ha.ts). */
const ENVELOPE_BYTES_MAX = 8 * 1024 * 1024
/** The signals that stop a backup (its build directory removed, BACKUP_INTERRUPTED). */
const STOPPING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

export const backupCommand: Command = {
  name: 'backup',
  summary: 'copy a running leader\'s data (snapshot and log) to a new directory, consistent and verified',
  help: `Usage: egress backup --from URL --out DIR [--to-lsn N] [--whole-log] [--timeout-ms MS]

Copies the data of a running HA leader (or of the leader a running standby names) into DIR without stopping it:
its newest snapshot and its log from there, over the replication routes (the replication token from
EGRESS_REPLICATION_TOKEN, as "egress serve" takes it), up to where its log ends when the backup starts (or --to-lsn).
Every frame's CRC, LSN and hash chain is checked as a standby checks it; the copy is built beside DIR, fsynced, checked
as "egress replay-verify" checks a data directory, and only then renamed to DIR. A failure leaves no DIR; a run
killed leaves its build directory (.DIR.backup-partial-…) beside DIR, which the next run to DIR removes (never one a
running backup writes: each holds a lock on its own). DIR also
holds BACKUP.json, where the copy ends (LSN and chain head): "egress replay-verify DIR" refuses a copy of it cut short.

The backup is a copy, not a standby: it never acknowledges what it received (a leader in synchronous mode does not
count it), takes no lease and writes nothing on the leader. DIR is a data directory "egress serve" starts from: as a
standby of the same pair (it follows from where the copy ends) or, after losing the site, as the leader of a new one.
A stopped node needs no command: copy its data directory as it is.

Options:
  --from URL        the leader's (or a standby's) base URL, http or https, as its nodes' advertise URLs
  --out DIR         a new or empty directory (anything else is refused: BACKUP_OUT_NOT_EMPTY, nothing written)
  --to-lsn N        end at LSN N (at most the leader's log end; the end of the decision holding N if it lies inside one)
  --whole-log       copy the log from LSN 1 and no snapshot (refused if the leader has compacted: BACKUP_RANGE_UNAVAILABLE)
  --timeout-ms MS   how long the source may stay silent (default ${BACKUP_TIMEOUT_MS_DEFAULT})
  --help            show this help

The last stdout line is one JSON object: {"ok":true,"out","source","leaderLastLsnAtStart","firstLsn","lastLsn",
"chainHead","snapshot":{"lsn","digest","sealed"}|null,"bytesReceived","durationMs","verified":true}, or {"ok":false,"code",
"message"}. Codes: BACKUP_OUT_NOT_EMPTY, BACKUP_OUT_UNUSABLE, BACKUP_AUTH_REFUSED, BACKUP_SOURCE_REFUSED,
BACKUP_SOURCE_FAILED, BACKUP_RANGE_UNAVAILABLE, BACKUP_SOURCE_COMPACTING (the leader compacted past the backup while
it ran, again after one fresh start: run it again), BACKUP_TO_LSN_BEYOND_LOG, BACKUP_SNAPSHOT_INVALID,
BACKUP_FRAME_REFUSED, BACKUP_VERIFY_FAILED, BACKUP_WRITE_FAILED, BACKUP_INTERRUPTED.

Exit codes: 0 done, 65 the source's data failed a check (a frame, the snapshot, the verification), 74 a local write
failed, 1 any other failure (refused, unreachable, interrupted), 2 usage.`,
  run: runBackup,
}

async function runBackup(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    from: { type: 'string' },
    out: { type: 'string' },
    'to-lsn': { type: 'string' },
    'whole-log': { type: 'boolean' },
    'timeout-ms': { type: 'string' },
  })
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
  if (values.from === undefined) throw new UsageError('--from URL is required: the leader\'s (or a standby\'s) base URL')
  const from = sourceUrlOf(values.from)
  if ('invalid' in from) throw new UsageError(`--from: ${from.invalid}, got ${JSON.stringify(values.from.slice(0, 200))}`)
  if (values.out === undefined || values.out === '') throw new UsageError('--out DIR is required: a new or empty directory')
  const toLsn = values['to-lsn'] === undefined ? null : integerOption('to-lsn', values['to-lsn'], 0, [1, Number.MAX_SAFE_INTEGER])
  const timeoutMs = integerOption('timeout-ms', values['timeout-ms'], BACKUP_TIMEOUT_MS_DEFAULT, [100, 600_000])
  const token = io.env.EGRESS_REPLICATION_TOKEN ?? ''
  if (token.length < 16) throw new UsageError('backup needs EGRESS_REPLICATION_TOKEN (the nodes\' shared replication token, at least 16 characters)')
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  for (const name of STOPPING_SIGNALS) process.on(name, onSignal)
  try {
    const report = await takeBackup({
      fromUrl: from.url,
      out: values.out,
      token,
      toLsn,
      wholeLog: values['whole-log'] === true,
      timeoutMs,
      snapshotBytesMax: SNAPSHOT_RECOVERY_DEFAULTS.bytesMax,
      envelopeBytesMax: ENVELOPE_BYTES_MAX,
      log: (line) => io.err(line),
      signal: stop.signal,
    })
    io.err(`backup: done: ${report.out} holds LSN ${report.firstLsn}..${report.lastLsn}${report.snapshot === null ? '' : ` and the ${report.snapshot.sealed ? 'sealed' : 'unsealed'} snapshot at LSN ${report.snapshot.lsn}`}, verified`)
    io.out(JSON.stringify(report))
    return EXIT_OK
  } catch (error) {
    if (!(error instanceof BackupError)) throw error
    io.err(`egress backup: ${error.code}: ${error.message.replace(/\s*\n\s*/g, ' ')}`)
    io.out(JSON.stringify({ ok: false, code: error.code, message: error.message }))
    return exitCodeOf(error.code)
  } finally {
    for (const name of STOPPING_SIGNALS) process.off(name, onSignal)
  }
}

function exitCodeOf(code: BackupErrorCode): number {
  if (code === 'BACKUP_FRAME_REFUSED' || code === 'BACKUP_SNAPSHOT_INVALID' || code === 'BACKUP_VERIFY_FAILED') return EXIT_DATA_ERROR
  if (code === 'BACKUP_WRITE_FAILED') return EXIT_IO_ERROR
  return EXIT_FAILURE
}
