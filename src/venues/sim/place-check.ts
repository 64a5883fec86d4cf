/** What the sim venue refuses in a new order before it reaches the book: its instrument, lot, tick and flags. */

import type { PlaceRequest } from '../adapter.ts'
import type { SimInstrument } from './options.ts'
import { SimReason } from './reasons.ts'

/** The reason `request` is refused, or null when it may trade; `instrument` is its symbol's (undefined: unknown). */
export function placeProblem(request: PlaceRequest, instrument: SimInstrument | undefined): string | null {
  if (instrument === undefined) return SimReason.unknownSymbol
  if (request.qty <= 0n || request.qty % instrument.lot !== 0n) return SimReason.invalidQuantity
  if (request.type === 'limit') {
    if (request.price === undefined || request.price <= 0n || request.price % instrument.tick !== 0n) {
      return SimReason.invalidPrice
    }
  } else if (request.price !== undefined || request.postOnly) {
    return SimReason.invalidOrder
  }
  if (request.postOnly && request.tif !== 'GTC' && request.tif !== 'DAY') return SimReason.invalidOrder
  return null
}
