/**
 * Run sizes shared by the CI test and scripts/sim.ts, so `bun scripts/sim.ts --seed N` replays exactly the run the
 * test made for seed N.
 */

export const SIM_DEFAULTS = {
  /** Workload steps per seed before healing. */
  steps: 100,
  /** Each step advances simulated time by a uniform 0..stepMsMax ms. */
  stepMsMax: 200,
  /** Seeds per CI run (DESIGN §9: at least 500). */
  ciSeeds: 500,
} as const
