/**
 * venues/ — the only door to a venue: the adapter interface every venue connection implements (place, cancel, amend,
 * status by client order id, open orders, trades, balances, execution reports; every answer classified as ok,
 * definite reject, retryable or unknown) and the deterministic simulated venue with fault injection.
 */

export type {
  AmendRequest,
  CancelRequest,
  ExecutionReport,
  ExecutionReportKind,
  Liquidity,
  OrderType,
  PlaceAck,
  PlaceRequest,
  Side,
  TimeInForce,
  VenueAdapter,
  VenueBalance,
  VenueOrder,
  VenueOrderStatus,
  VenueOutcome,
  VenueTrade,
} from './adapter.ts'
export * from './sim/index.ts'
