/**
 * venues/jsonl — a venue in another process over JSONL on TCP: the server side puts a SimVenue behind it
 * (`egress sim-venue`), the client side is a VenueAdapter for the gateway.
 */

export { JsonlVenueClient, type JsonlVenueClientOptions } from './client.ts'
export { serveJsonlVenue, type JsonlVenueServer, type JsonlVenueServerOptions } from './server.ts'
export { JsonlLogCode, JsonlReason, withDetail as jsonlReasonWithDetail, type JsonlReasonCode } from './reasons.ts'
export { LINE_BYTES_MAX, LineReader, UNITS_DIGITS_MAX, decodeLine, encodeLine } from './codec.ts'
