/**
 * Environment variables that look like a misspelt egress setting. A config file's unknown field is an error; an
 * environment variable cannot be checked that way (the environment holds everything), so the near misses are:
 * `EGRESS_DATADIR` for EGRESS_DATA_DIR, `EGRESS_PORT` for PORT. Unchecked, such a variable was ignored without a
 * word and the gateway started on ./data or port 8080.
 */

/** Variables egress reads besides the config overrides (load.ts ENV_OVERRIDES, EGRESS_CONFIG). */
export const OTHER_ENV_NAMES: readonly string[] = ['EGRESS_BUILD_COMMIT', 'EGRESS_REPLICATION_TOKEN']

const PREFIX = 'EGRESS_'
/** Up to this many single-character edits from a known name counts as a misspelling of it. */
const EDITS_MAX = 2

/** For each variable in `env` that is not one of `known` but nearly is: the name and the one it likely means. */
export function misspeltEnvNames(env: Record<string, string | undefined>, known: readonly string[]): { name: string; meant: string }[] {
  const found: { name: string; meant: string }[] = []
  for (const name of Object.keys(env)) {
    if (!name.startsWith(PREFIX) || known.includes(name) || env[name] === undefined) continue
    const meant = known.find((candidate) => `${PREFIX}${candidate}` === name || editDistance(name, candidate) <= EDITS_MAX)
    if (meant !== undefined) found.push({ name, meant })
  }
  return found
}

/** Levenshtein distance (insertions, deletions, substitutions), for short names. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i]
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] as number
}
