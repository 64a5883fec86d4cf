/**
 * FIX field values ↔ egress domain values: decimals (exact, never through a float), sides, order types, time in
 * force, order statuses. Pure functions; `null` means "not a valid value" and the caller decides what that costs.
 */

import { formatDecimal, UNIT, type Units } from '../../domain/decimal.ts'
import type { OrderType, Side, TimeInForce, VenueOrderStatus } from '../adapter.ts'

const FIX_DECIMAL = /^(-?)(\d{0,20})(?:\.(\d{0,30}))?$/

/**
 * Parses a FIX float ("100", "1.50", ".5", "-2.000000000000") exactly into units. Extra fraction digits are accepted
 * only when they are zeros; a value that cannot be held in 8 places exactly is null, never rounded.
 */
export function parseFixDecimal(text: string | undefined): Units | null {
  if (text === undefined) return null
  const match = FIX_DECIMAL.exec(text)
  if (match === null) return null
  const [, sign, whole = '', rawFraction = ''] = match
  if (whole.length === 0 && rawFraction.length === 0) return null
  const fraction = rawFraction.replace(/0+$/, '')
  if (fraction.length > 8) return null
  const units = BigInt(whole.length === 0 ? '0' : whole) * UNIT + BigInt(fraction.padEnd(8, '0'))
  return sign === '-' ? -units : units
}

/** A decimal as FIX text: the canonical decimal string ("1.5", "100"). */
export function formatFixDecimal(units: Units): string {
  return formatDecimal(units)
}

export function fixSide(side: Side): string {
  return side === 'buy' ? '1' : '2'
}

/** 1 buy; 2 sell, 5 sell short, 6 sell short exempt are all sells to egress. */
export function parseFixSide(text: string | undefined): Side | null {
  if (text === '1') return 'buy'
  if (text === '2' || text === '5' || text === '6') return 'sell'
  return null
}

export function fixOrdType(type: OrderType): string {
  return type === 'limit' ? '2' : '1'
}

/** ExecInst (18) for an order's flags: 6 (Participate don't initiate) for post-only, E (Do not increase) for reduce-only. */
export function fixExecInst(flags: { postOnly: boolean; reduceOnly: boolean }): string | undefined {
  const execInst = [flags.postOnly ? '6' : null, flags.reduceOnly ? 'E' : null].filter((v) => v !== null).join(' ')
  return execInst === '' ? undefined : execInst
}

export function fixTimeInForce(tif: TimeInForce): string {
  switch (tif) {
    case 'DAY':
      return '0'
    case 'GTC':
      return '1'
    case 'IOC':
      return '3'
    case 'FOK':
      return '4'
  }
}

/**
 * OrdStatus (39) → what egress calls the order's state. Pending states are still "open"; Replaced (5) means this
 * ClOrdID no longer names a live order (its replacement does), so it reads as canceled; Done for day (3) as expired.
 */
export function parseFixOrdStatus(text: string | undefined): VenueOrderStatus | null {
  switch (text) {
    case '0':
    case '6':
    case '7':
    case '9':
    case 'A':
    case 'D':
    case 'E':
      return 'open'
    case '1':
      return 'partially_filled'
    case '2':
      return 'filled'
    case '4':
    case '5':
      return 'canceled'
    case '3':
    case 'C':
      return 'expired'
    case '8':
      return 'rejected'
    default:
      return null
  }
}
