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
    const shown = issues.slice(0, CONFIG_ISSUES_SHOWN_MAX).map((issue) => (issue.path === '' ? issue.message : `${shownPath(issue.path)}: ${issue.message}`))
    const more = issues.length - shown.length
    super(more > 0 ? `${shown.join('; ')}; and ${more} more issue${more === 1 ? '' : 's'}` : shown.join('; '))
    this.issues = issues
  }
}

/** The most of a path the message shows: an unknown key is the file's text, and one of 3 MB made the path 3 MB. */
const PATH_SHOWN_CHARS_MAX = 200

/** `path` as the message shows it: cut, with its length said, past PATH_SHOWN_CHARS_MAX (`issues` keeps it whole). */
function shownPath(path: string): string {
  return path.length <= PATH_SHOWN_CHARS_MAX ? path : `${path.slice(0, PATH_SHOWN_CHARS_MAX)}… (${path.length} characters)`
}
