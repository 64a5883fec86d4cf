/**
 * The mode a start (a restart, or an HA takeover) runs in. The log holds the mode an operator last chose (an admin's
 * `POST /v1/admin/mode`, or an earlier start's); the config holds the mode this start was asked for. The rule:
 *
 * - A log that was never started (no configuration recorded yet) takes the config's mode: nobody chose one before.
 * - Otherwise the start takes the one of the two whose orders reach less (domain/modes.ts `leastReaching`: shadow,
 *   then paper, then live). A start may de-escalate — recorded as a mode change whose note says why — but never
 *   escalate: a live config does not undo an operator's switch to shadow after a failover. Escalating takes an admin.
 *
 * Pure: bootstrap records the decision (a `mode.changed` by egress-bootstrap) before the executor starts, and puts
 * what it decided in its report (the start's log line), so a held escalation is visible too.
 */

import { leastReaching, type Mode } from '../domain/modes.ts'

export interface StartMode {
  /** The mode the config asked this start for; null: none asked (the log's). */
  asked: Mode | null
  /** The mode in the log when the start began (the default on a log never started). */
  logged: Mode
  /** The mode the start runs in. */
  effective: Mode
  /** Why: `first_start`, `as_logged` (nothing to change), `deescalated` (recorded) or `escalation_held` (the log's kept). */
  rule: 'first_start' | 'as_logged' | 'deescalated' | 'escalation_held'
}

/** The note of the mode change a first start records when its config asks for another mode than the default. */
export const START_MODE_NOTE = 'mode from config at start'

/** The note of the mode change a later start records when its config asks for a mode that reaches less. */
export const START_MODE_DEESCALATED_NOTE = "mode from config at start: it reaches less than the log's"

export function startModeOf(input: { asked: Mode | null; logged: Mode; neverStarted: boolean }): StartMode {
  const { asked, logged } = input
  if (asked === null || asked === logged) return { asked, logged, effective: logged, rule: 'as_logged' }
  if (input.neverStarted) return { asked, logged, effective: asked, rule: 'first_start' }
  const effective = leastReaching(logged, asked)
  return { asked, logged, effective, rule: effective === logged ? 'escalation_held' : 'deescalated' }
}

/** The note a start's mode change carries, or null when the start changes no mode. */
export function startModeNote(mode: StartMode): string | null {
  if (mode.rule === 'first_start') return START_MODE_NOTE
  if (mode.rule === 'deescalated') return `${START_MODE_DEESCALATED_NOTE} (${mode.logged})`
  return null
}
