/** The one error every config failure is: each issue names a field (a dotted path) and what was expected there. */

export interface ConfigIssue {
  /** Dotted field path (`auth.jwksReloadMs`); empty for the config as a whole. */
  path: string
  message: string
}

/**
 * Issues the message lists; the rest are counted. A file of 100,000 bad account ids was one stderr line of 11 MB, every
 * issue in it (`issues` keeps them all).
 */
export const CONFIG_ISSUES_SHOWN_MAX = 10

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    const shown = issues.slice(0, CONFIG_ISSUES_SHOWN_MAX).map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`))
    const more = issues.length - shown.length
    super(more > 0 ? `${shown.join('; ')}; and ${more} more issue${more === 1 ? '' : 's'}` : shown.join('; '))
    this.issues = issues
  }
}
