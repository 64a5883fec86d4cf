/** http/sse/ — server-sent event streams over the log: hub, bounded subscribers, wire format. */

export { SseHub, authorityChecksPerHeartbeat, type OpenResult, type SseHubOptions, type StreamAuthority } from './hub.ts'
export { HELD_EVENTS_MAX_DEFAULT, type StreamBound } from './held-back.ts'
export { matches, type StreamScope } from './stream-events.ts'
export { Subscriber, type DisconnectReason, type SubscriberPhase } from './subscriber.ts'
export { parseLastEventId, sseComment, sseEvent, sseRetry } from './format.ts'
