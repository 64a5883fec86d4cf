/**
 * Re-deciding a whole log from its command records, offline: the log is folded from genesis exactly as replay does
 * (the logged events are applied), and every kernel.command record is decided again on the state just before its
 * events and compared with them (the shadow decider, shadow.ts). The same check a standby runs live, for a stopped
 * data directory — e.g. after an upgrade of the kernel, to see whether the new build would have decided the same.
 * A log compacted below LSN 1 has no genesis to start from and is refused (RangeError).
 */

import { openReadOnly } from '../../../wal/index.ts'
import { applyInPlace, initialState } from '../../kernel/index.ts'
import { domainEventOf } from '../records.ts'
import { isCommandRecord } from './command-record.ts'
import { ShadowDecider, type DecideFunction, type ShadowStats } from './shadow.ts'

export interface RedecideReport extends ShadowStats {
  firstLsn: number
  lastLsn: number
  records: number
}

export function redecideLog(logDir: string, options: { decide?: DecideFunction } = {}): RedecideReport {
  const log = openReadOnly(logDir)
  if (log.firstLsn !== 1) throw new RangeError(`the log in ${logDir} starts at LSN ${log.firstLsn} (compacted); re-deciding needs it from genesis`)
  const state = initialState()
  const shadow = new ShadowDecider(options.decide === undefined ? {} : { decide: options.decide })
  let records = 0
  for (const frame of log.read(1)) {
    records++
    if (isCommandRecord(frame.type)) shadow.command(frame, state)
    const event = domainEventOf(frame)
    if (event === null) continue
    shadow.event(frame, state)
    applyInPlace(state, event, { lsn: frame.lsn })
  }
  return { ...shadow.stats, firstLsn: log.firstLsn, lastLsn: log.lastLsn, records }
}
