/**
 * Two running counts over a sliding time window, for the auto-stop breakers (auto-stop-breakers.ts): `all` samples and
 * the `hits` among them (rejects among answers, slow calls among calls). The window is cut into WINDOW_SLOTS equal
 * slots and slides a slot at a time, so adding a sample or reading the counts costs O(1) whatever the traffic: no
 * sample is kept, only each slot's two totals (a breaker on the order path must not scan a window per order). What is
 * counted is the samples of the current slot and the WINDOW_SLOTS − 1 before it: the last windowMs, to within a slot
 * (windowMs / 20), so a sample leaves between 19/20 and 20/20 of windowMs after it came. A slot is exactly windowMs / 20
 * (slot number ⌊20 t / windowMs⌋), not rounded to whole milliseconds: rounded up, a window that is no multiple of 20 ms
 * (1,010 ms: 20 slots of 51 ms) kept a sample up to 19 ms past windowMs.
 */

export const WINDOW_SLOTS = 20

export class WindowCounts {
  private readonly allBySlot = new Float64Array(WINDOW_SLOTS)
  private readonly hitsBySlot = new Float64Array(WINDOW_SLOTS)
  /** The newest slot's number (⌊20 t / windowMs⌋); -Infinity before the first sample. */
  private newestSlot = Number.NEGATIVE_INFINITY
  private allCount = 0
  private hitCount = 0

  constructor(readonly windowMs: number) {}

  /** Counts one sample at `atMs` (a clock that stepped back counts it in the newest slot). */
  add(atMs: number, hit: boolean): void {
    this.slide(atMs)
    const index = slotIndex(this.newestSlot)
    this.allBySlot[index] = (this.allBySlot[index] as number) + 1
    this.allCount++
    if (!hit) return
    this.hitsBySlot[index] = (this.hitsBySlot[index] as number) + 1
    this.hitCount++
  }

  /** The samples in the window ending at `atMs`. */
  all(atMs: number): number {
    this.slide(atMs)
    return this.allCount
  }

  /** The hits in the window ending at `atMs`. */
  hits(atMs: number): number {
    this.slide(atMs)
    return this.hitCount
  }

  /** Forgets every sample: the window starts again (a breaker re-armed by RESUME). */
  reset(): void {
    this.allBySlot.fill(0)
    this.hitsBySlot.fill(0)
    this.allCount = 0
    this.hitCount = 0
    this.newestSlot = Number.NEGATIVE_INFINITY
  }

  /** Drops the slots that left the window by `atMs`: at most WINDOW_SLOTS of them, whatever time passed. */
  private slide(atMs: number): void {
    // Exact for clock times below 2^52 / 20 ms (year 9000): the quotient is rounded across no slot boundary.
    const slot = Math.floor((atMs * WINDOW_SLOTS) / this.windowMs)
    if (slot <= this.newestSlot) return
    if (slot - this.newestSlot >= WINDOW_SLOTS) {
      this.allBySlot.fill(0)
      this.hitsBySlot.fill(0)
      this.allCount = 0
      this.hitCount = 0
    } else {
      for (let next = this.newestSlot + 1; next <= slot; next++) {
        const index = slotIndex(next)
        this.allCount -= this.allBySlot[index] as number
        this.hitCount -= this.hitsBySlot[index] as number
        this.allBySlot[index] = 0
        this.hitsBySlot[index] = 0
      }
    }
    this.newestSlot = slot
  }
}

function slotIndex(slot: number): number {
  return ((slot % WINDOW_SLOTS) + WINDOW_SLOTS) % WINDOW_SLOTS
}
