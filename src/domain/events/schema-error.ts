/** The one error every event decoder throws on a payload it cannot accept, with a stable kind. */

export type SchemaErrorKind = 'unknown_type' | 'unsupported_version' | 'invalid_payload'

export class SchemaError extends Error {
  override readonly name = 'SchemaError'
  constructor(
    readonly kind: SchemaErrorKind,
    message: string,
  ) {
    super(message)
  }
}
