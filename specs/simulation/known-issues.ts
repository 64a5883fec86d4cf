/**
 * Bugs the simulation found in src/ that are reported and not yet fixed. A violation the checks can attribute to one
 * of these (by its precise signature, never by invariant name alone) is counted and listed with its seeds but does
 * not fail the run unless `strict` is set (`SIM_STRICT=1`, `scripts/sim.ts --strict`). Anything else fails.
 * When a fix lands, delete its entry: the signature then fails the run again if the bug comes back.
 */

export interface KnownIssue {
  id: string
  invariant: string
  /** Where the bug is, what happens, what should happen. */
  summary: string
}

export const KNOWN_ISSUES: Readonly<Record<string, KnownIssue>> = {
  'executor-busy-after-place-result': {
    id: 'executor-busy-after-place-result',
    invariant: 'lane0-priority',
    summary:
      'src/runtime/executor.ts: an order stays in `busy` until its place_result is durable *and* the promise chain ' +
      'reaches `.finally`; the onDurable wake-up pumps first, so when a cancel was requested while the place was in ' +
      'flight, the now-eligible Lane0 cancel is skipped and a Lane2 place for the same instrument goes ahead of it ' +
      '(the cancel waits one more venue call, up to requestTimeoutMs; `--seed 2 --strict`, step 1). Should: free the order before the result is ' +
      'submitted (busy only needs to cover the adapter call), so the pump after the result sees the cancel.',
  },
  'executor-reconcile-backoff-blocks-lane0': {
    id: 'executor-reconcile-backoff-blocks-lane0',
    invariant: 'lane0-priority',
    summary:
      'src/runtime/executor.ts pump()/reconcile(): an order whose status query is in flight is in `busy`, and one ' +
      'whose query the venue did not answer (outage, 429) is in `reconcileBackoff`, which pump() merges into `busy`; ' +
      'nextWork skips busy orders for every kind of work. So the order\'s Lane0 cancel is skipped for up to one call ' +
      'plus reconcileRetryMs (500 ms) while Lane2 places go out ahead of it — e.g. after a restart, bootstrap ' +
      're-reads every open order (reconcileOrder), the venue is in an outage, and every CancelRequested order is held ' +
      '(seed 4: 14 places overtook a cancel), or an Unknown order whose cancel is resumed by a report (seed 275: 17). ' +
      'Should: hold back only the reconcile item (skip Lane3 work for the order, not its Lane0 cancel).',
  },
  'cancel-pending-without-report': {
    id: 'cancel-pending-without-report',
    invariant: 'venue-agrees',
    summary:
      'src/kernel (state-machine.ts cancel_ack, queues.ts workFor): after the venue acks a cancel the order stays ' +
      'CancelPending, waiting for the `canceled` report, with no timer and no Lane3 work; if that report is dropped ' +
      'the order is CancelPending until the next restart (bootstrap re-reads open orders since 2f4a484) and keeps its ' +
      'reservation (`--seed 7 --strict`). Should: re-check a CancelPending order with the venue (reconcile) when no terminal report ' +
      'follows the ack within reconcileGraceMs.',
  },
  'lost-report-never-recovered': {
    id: 'lost-report-never-recovered',
    invariant: 'venue-agrees',
    summary:
      'src/runtime/executor.ts: while running, only Unknown orders are reconciled (bootstrap re-reads open orders ' +
      'since 2f4a484, but there is no periodic sweep, and an order bootstrap could not read during an outage is not ' +
      'asked again). A fill, expiry or cancel report that is dropped is never learned: egress keeps the order ' +
      'AckedOpen/Partial (or terminal with a short cumQty) and its ledger misses the fills, while the venue has it ' +
      'filled/expired (`--seed 15 --verbose`, `--seed 23 --verbose`). Should: a periodic sweep of open orders and trades (DESIGN §4.6) that appends what egress missed.',
  },
}
