/** http/sse/ — server-sent event streams over the log: hub, bounded subscribers, wire format. */

export { SseHub, authorityChecksPerHeartbeat, matches, type OpenResult, type SseHubOptions, type StreamAuthority, type StreamScope } from './hub.ts'
export { Subscriber, type DisconnectReason, type SubscriberPhase } from './subscriber.ts'
export { parseLastEventId, sseComment, sseEvent, sseRetry } from './format.ts'
