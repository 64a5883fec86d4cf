import { expect, test } from 'bun:test'
import { SilenceWatch } from '../../../src/venues/jsonl/silence-watch.ts'

const SILENCE_MS_MAX = 200

test('silent past silenceMsMax: onSilent once, and the watch stops', async () => {
  const silences: number[] = []
  const watch = new SilenceWatch({ silenceMsMax: SILENCE_MS_MAX, nowMs: () => performance.now(), onSilent: (silentMs) => void silences.push(silentMs) })
  await Bun.sleep(SILENCE_MS_MAX * 3)
  watch.stop()
  expect(silences).toHaveLength(1)
  expect(silences[0]).toBeGreaterThanOrEqual(SILENCE_MS_MAX)
})

test('heard within silenceMsMax all along: never silent', async () => {
  const silences: number[] = []
  const watch = new SilenceWatch({ silenceMsMax: SILENCE_MS_MAX, nowMs: () => performance.now(), onSilent: (silentMs) => void silences.push(silentMs) })
  for (let beat = 0; beat < 10; beat++) {
    await Bun.sleep(SILENCE_MS_MAX / 4)
    watch.heard()
  }
  watch.stop()
  expect(silences).toEqual([])
})

test('a check that comes late (this process stalled, the venue’s lines unread) judges no silence; one bound later it does', async () => {
  let skewMs = 0
  const silences: number[] = []
  const watch = new SilenceWatch({ silenceMsMax: SILENCE_MS_MAX, nowMs: () => performance.now() + skewMs, onSilent: (silentMs) => void silences.push(silentMs) })
  // Seen by the watch as ten bounds of nothing between two checks.
  skewMs = SILENCE_MS_MAX * 10
  await Bun.sleep(SILENCE_MS_MAX / 2)
  expect(silences).toEqual([])
  await Bun.sleep(SILENCE_MS_MAX * 2)
  watch.stop()
  expect(silences).toHaveLength(1)
})
