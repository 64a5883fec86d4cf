/** The one error every config failure is: each issue names a field (a dotted path) and what was expected there. */

export interface ConfigIssue {
  /** Dotted field path (`auth.jwksReloadMs`); empty for the config as a whole. */
  path: string
  message: string
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly issues: readonly ConfigIssue[]

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`)).join('; '))
    this.issues = issues
  }
}
