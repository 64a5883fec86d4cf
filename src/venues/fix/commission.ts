/**
 * A fill's Commission (12) → the fee egress books. Pure: the message and the fill's quantity and price in, the fee and
 * its asset (or no fee) out, or the reason the report cannot be booked.
 *
 * CommType (13), FIX 4.2/4.4:
 * - 3 absolute (and CommType absent, as before): Commission is the fee.
 * - 1 per unit: Commission × LastQty.
 * - 2 percent: Commission × LastQty × LastPx. The FIX field dictionary for Commission: "if CommType (13) is
 *   percentage, Commission of 5% should be represented as .05" — a fraction, not a count of percent.
 * - 4, 5 (percentage waived: cash discount / enhanced units, for fund buy orders), 6 (points per bond or contract: a
 *   ContractMultiplier egress does not know), and anything else (FIX 5.0's 7 basis points, 8 amount per contract):
 *   egress cannot compute the fee from the report alone.
 * A computed fee is rounded once, up (towards +∞): against the account, as the ledger rounds a buy's cash and as the sim
 * venue rounds its fees (README "Ledger arithmetic") — a charge rounds up, a rebate (a negative Commission) towards zero.
 *
 * The fee's asset is CommCurrency (479), "the Commission currency if different from the Deal Currency", else Currency
 * (15), the price's, else none (the instrument's quote asset: src/kernel/inbox.ts). A percentage is of the fill's
 * cash, which is in the price's currency: a CommCurrency stated beside it that is not shown to be that same currency
 * (Currency absent, or another) would need an exchange rate, so that report cannot be booked either.
 *
 * There is no "fee unknown" in the ledger: a fill without a fee books 0 (src/kernel/inbox.ts emitFill). So a
 * commission egress cannot compute is never booked as 0: the report is refused as malformed (session Reject, error
 * log `fix.report_unreadable` with the stable code `fix_commission_uncomputable`) and its order read back, as every
 * report egress cannot map is (venue-inbound.ts). The read-back books the quantity the venue holds as a synthetic fill
 * with no fee, alerted (RECONCILE_SYNTHETIC_FILL): visibly a guess, where a fee of 0 would pass for a fact.
 */

import { UNIT, type Units } from '../../domain/decimal.ts'
import { isRecordableUnits } from '../../domain/recordable-amounts.ts'
import type { FixMessage } from './message.ts'
import { FixReason, withDetail } from './reasons.ts'
import { Tag } from './tags.ts'
import { unreadableDecimal, valueOutOfRange, type Unreadable } from './unreadable.ts'
import { parseFixDecimal } from './values.ts'

export type FillFee = { fee?: Units; feeAsset?: string } | Unreadable

/** CommType values whose fee egress cannot compute from the report, by what they mean (for the refusal's text). */
const UNCOMPUTABLE_COMM_TYPES: Readonly<Record<string, string>> = {
  '4': 'percentage waived, cash discount basis',
  '5': 'percentage waived, enhanced units basis',
  '6': 'points per bond or contract',
}

/** The fee a fill of `lastQty` at `lastPrice` (both positive, already checked) pays by its Commission fields. */
export function readFillFee(message: FixMessage, fill: { lastQty: Units; lastPrice: Units }): FillFee {
  const commissionText = message.get(Tag.Commission)
  if (commissionText === undefined) return {}
  const commission = parseFixDecimal(commissionText)
  if (commission === null) return unreadableDecimal(Tag.Commission, commissionText, `Commission (12) must be a decimal, got ${commissionText}`)
  const commType = message.get(Tag.CommType)
  const fee = computedFee(commType, commission, fill)
  if (fee === null) {
    const meaning = commType === undefined ? undefined : UNCOMPUTABLE_COMM_TYPES[commType]
    const why = `CommType (13) ${commType}${meaning === undefined ? ' is not a FIX 4.4 commission type' : ` (${meaning})`}: Commission ${commissionText} is no amount egress can compute`
    return valueOutOfRange(Tag.CommType, withDetail(FixReason.commissionUncomputable, why))
  }
  if (!isRecordableUnits(fee)) return valueOutOfRange(Tag.Commission, withDetail(FixReason.commissionUncomputable, `the fee of Commission ${commissionText} (CommType ${commType}) is beyond the amounts a record can hold`))
  const asset = feeAssetOf(message, commType)
  if ('invalid' in asset) return asset
  return asset.feeAsset === undefined ? { fee } : { fee, feeAsset: asset.feeAsset }
}

/** The fee by CommType, rounded up; null when egress cannot compute it. A Commission of 0 is no fee whatever the type. */
function computedFee(commType: string | undefined, commission: Units, fill: { lastQty: Units; lastPrice: Units }): Units | null {
  if (commType === undefined || commType === '3') return commission
  if (commType === '1') return ceilDiv(commission * fill.lastQty, UNIT)
  if (commType === '2') return ceilDiv(commission * fill.lastQty * fill.lastPrice, UNIT * UNIT)
  return commission === 0n ? 0n : null
}

function feeAssetOf(message: FixMessage, commType: string | undefined): { feeAsset?: string } | Unreadable {
  const commCurrency = message.get(Tag.CommCurrency)
  const currency = message.get(Tag.Currency)
  if (commType === '2' && commCurrency !== undefined && commCurrency !== currency) {
    const why = `a percentage of the fill's cash (in Currency (15) ${currency ?? 'absent: the instrument\'s'}) stated in CommCurrency (479) ${commCurrency} needs an exchange rate`
    return valueOutOfRange(Tag.CommCurrency, withDetail(FixReason.commissionUncomputable, why))
  }
  const feeAsset = commCurrency ?? currency
  return feeAsset === undefined ? {} : { feeAsset }
}

/** ⌈numerator ÷ denominator⌉ (denominator > 0), exactly. */
function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator // truncates toward zero
  return numerator % denominator > 0n ? quotient + 1n : quotient
}
