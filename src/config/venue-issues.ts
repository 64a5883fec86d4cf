/**
 * The cross-field rules of config `venues[]`: names unique and "sim" only for the built-in sim's one entry, FIX
 * sessions' bounds in order, static prices never in live mode, and every venue's instruments sensible.
 */

import type { ConfigIssue } from './config-error.ts'
import { instrumentIssues, isPositive } from './instrument-fields.ts'
import { SIM_VENUE_NAME, simVenueIssues } from './sim-venue.ts'
import type { FixVenueConfig, VenueConfig } from './venues.ts'

export function venueIssues(parsed: { mode: string; venues?: readonly VenueConfig[] | undefined }): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const names = new Set<string>()
  let simAt: string | null = null
  ;(parsed.venues ?? []).forEach((venue, index) => {
    const at = `venues.${index}`
    if (venue.type === 'sim') {
      if (simAt !== null) issues.push({ path: `${at}.type`, message: `the sim venue is configured once; ${simAt} configures it already` })
      simAt ??= at
      issues.push(...simVenueIssues(venue, at))
      return
    }
    if (venue.name === SIM_VENUE_NAME) issues.push({ path: `${at}.name`, message: '"sim" is the built-in sim venue; choose another name (its instruments are set by an entry with type "sim")' })
    else if (names.has(venue.name)) issues.push({ path: `${at}.name`, message: `duplicate venue name "${venue.name}"` })
    names.add(venue.name)
    issues.push(...fixVenueIssues(venue, at, parsed.mode))
  })
  return issues
}

function fixVenueIssues(venue: FixVenueConfig, at: string, mode: string): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  if (venue.reconnectDelayMsMax < venue.reconnectDelayMsMin) {
    issues.push({ path: `${at}.reconnectDelayMsMax`, message: `must be ≥ reconnectDelayMsMin (${venue.reconnectDelayMsMin}), got ${venue.reconnectDelayMsMax}` })
  }
  if (venue.statusOwedWriteOffMs !== undefined && venue.statusOwedWriteOffMs < venue.statusTimeoutMs) {
    issues.push({ path: `${at}.statusOwedWriteOffMs`, message: `must be ≥ statusTimeoutMs (${venue.statusTimeoutMs}), got ${venue.statusOwedWriteOffMs}` })
  }
  if (venue.marketData === 'static' && mode === 'live') {
    issues.push({ path: `${at}.marketData`, message: 'static reference prices are for test venues and are refused in live mode' })
  }
  issues.push(...instrumentIssues(venue.instruments, at, venue.name))
  venue.instruments.forEach((instrument, index) => {
    if (venue.marketData === 'static' && (instrument.referencePrice === undefined || !isPositive(instrument.referencePrice))) {
      issues.push({ path: `${at}.instruments.${index}.referencePrice`, message: 'marketData "static" needs a positive referencePrice for every instrument' })
    }
  })
  return issues
}
