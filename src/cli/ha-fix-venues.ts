/**
 * FIX venues are served by a single node: an HA start (`--role`, `--lease-dir` or `--venue`) with config `venues` of
 * type `fix` is refused, HA_FIX_VENUES_UNSUPPORTED, before anything is written. The refusal used to come only from the
 * gateway's start (startServeGateway), after the node had taken a lease epoch, written its lease record and made the
 * data dir (DATA_DIR_LOCK, auth/), and without a code.
 *
 * Why FIX is not served under HA (README "FIX venues", known gaps): a session's sequence numbers are saved before a
 * message carrying them is written, durable in the leader's log only — no save waits for the standby, not even under
 * synchronous replication (that gate covers venue places: leader-sync.ts). A standby that took over without the old
 * leader's last `fix.seq_nums` records would log on with a MsgSeqNum the venue has already seen, which a FIX acceptor
 * answers with a Logout ("MsgSeqNum too low") and no session; and nothing is built to make sure the old leader's
 * session (the same CompIDs) has ended before the new one logs on. Stale incoming numbers alone would be harmless (the
 * venue's messages arrive above the expected number: ResendRequest, its PossDup copies dropped by ExecID).
 */

import { fixVenueConfigs, type Config } from '../config/index.ts'

/** An HA start with FIX venues configured (HA_FIX_VENUES_UNSUPPORTED); nothing was written. */
export class HaFixVenuesError extends Error {
  override readonly name = 'HaFixVenuesError'
  readonly code = 'HA_FIX_VENUES_UNSUPPORTED'

  constructor(readonly venues: readonly string[]) {
    super(
      `HA_FIX_VENUES_UNSUPPORTED: config venues ${venues.map((name) => JSON.stringify(name)).join(', ')} are FIX venues, which a single node serves: ` +
        'not with --role, --lease-dir or --venue (an HA takeover cannot carry on the FIX session\'s sequence numbers); nothing was written. ' +
        'Run egress serve without the HA options, or remove the FIX venues from the config',
    )
  }
}

/** Throws HaFixVenuesError when `config` names FIX venues; called for an HA start, before anything is written. */
export function refuseFixVenuesUnderHa(config: Config): void {
  const fixVenues = fixVenueConfigs(config.venues)
  if (fixVenues.length > 0) throw new HaFixVenuesError(fixVenues.map((venue) => venue.name))
}
