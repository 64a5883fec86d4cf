/**
 * Text from a request (a query parameter's name, a path) as an error message shows it: printable ASCII (anything else,
 * control characters and bidi overrides included, becomes `?`) and at most `charsMax` characters, so a hostile request
 * can neither flood a log nor rewrite what a terminal shows.
 */
export function shownText(text: string, charsMax: number): string {
  const cut = text.length > charsMax ? text.slice(0, charsMax) : text
  const printable = cut.replace(/[^\x20-\x7e]/g, '?')
  return cut.length < text.length ? `${printable}…` : printable
}

/** How much of a request's path a 404 or 405 message shows. */
export const PATH_SHOWN_CHARS_MAX = 200
