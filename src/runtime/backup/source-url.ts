/**
 * The `--from` URL of `egress backup`, checked before any request: an absolute http(s) URL of a node's base (where
 * its /replication routes are), without credentials, query or fragment, at most 2048 characters. The same check
 * applies to the leader URL a standby names when it is asked instead of the leader (source.ts): a value from the
 * network is not followed unchecked.
 */

export const SOURCE_URL_CHARS_MAX = 2048

/** The URL's base (origin and path, no trailing slash), or null with the reason it is refused. */
export function sourceUrlOf(text: string): { url: string } | { invalid: string } {
  if (text.length === 0 || text.length > SOURCE_URL_CHARS_MAX) return { invalid: `expected a URL of 1 to ${SOURCE_URL_CHARS_MAX} characters` }
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    return { invalid: 'not an absolute URL' }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { invalid: `expected http: or https:, got ${parsed.protocol}` }
  if (parsed.username !== '' || parsed.password !== '') return { invalid: 'credentials in the URL are refused: the replication token comes from EGRESS_REPLICATION_TOKEN' }
  if (parsed.search !== '' || parsed.hash !== '') return { invalid: 'expected a node\'s base URL, without a query or fragment' }
  return { url: `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}` }
}
