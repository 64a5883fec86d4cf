/**
 * What the gateway does with a self-check finding, apart from the mode change (the runtime switches to HALT or
 * CANCEL_ONLY through the kernel): write a forensics bundle, then append an audit.tamper_detected record naming the
 * finding, the response and the bundle. The bundle comes first so that the record can say where it is; a failure of
 * either does not stop the other — the finding must reach at least one of them.
 */

import type { AuditProblem } from './codes.ts'
import { writeForensicsBundle, type ForensicsBundle } from './forensics.ts'
import { tamperRecord, type TamperFinding, type TamperResponse } from './records.ts'
import type { SealableLog } from './sealer.ts'

export interface TamperReportOptions {
  log: Pick<SealableLog, 'append'> & { readonly dir: string }
  finding: AuditProblem
  response: TamperResponse
  forensicsDir: string
  configDigest: string
  config?: unknown
  nowMs: number
}

export interface TamperReport {
  finding: TamperFinding
  bundle: ForensicsBundle | null
  /** LSN of the audit.tamper_detected record, or null if the log refused it (then `errors` says why). */
  recordLsn: number | null
  errors: string[]
}

export async function reportTamper(options: TamperReportOptions): Promise<TamperReport> {
  const { finding } = options
  const errors: string[] = []
  let bundle: ForensicsBundle | null = null
  try {
    bundle = await writeForensicsBundle({
      logDir: options.log.dir, problem: finding, outDir: options.forensicsDir, configDigest: options.configDigest,
      config: options.config, nowMs: options.nowMs,
    })
  } catch (error) {
    errors.push(`forensics bundle: ${error instanceof Error ? error.message : String(error)}`)
  }
  const record: TamperFinding = {
    code: finding.code, lsn: finding.lsn, file: finding.file, offsetBytes: finding.offsetBytes,
    detail: finding.detail.slice(0, 4_096), detectedAtMs: Math.trunc(options.nowMs), response: options.response,
    ...(bundle === null ? {} : { bundleDir: bundle.dir }),
  }
  let recordLsn: number | null = null
  try {
    ;[recordLsn = null] = await options.log.append([tamperRecord(record)])
  } catch (error) {
    errors.push(`tamper record: ${error instanceof Error ? error.message : String(error)}`)
  }
  return { finding: record, bundle, recordLsn, errors }
}
