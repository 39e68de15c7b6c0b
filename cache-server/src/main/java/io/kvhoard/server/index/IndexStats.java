package io.kvhoard.server.index;

/**
 * A snapshot of the prefix index's counters.
 *
 * @param entries (block, pod) entries held, including dead ones (of cleared or expired pods) not
 *     yet reclaimed
 * @param capacity the most (block, pod) entries held; more evict the oldest
 * @param engineEntries slots of the engine-key map (publisher key → canonical chain state)
 * @param offHeapBytes direct memory of both tables
 * @param pods pods with an event within the TTL (or not yet swept)
 * @param namespaces namespaces seen
 * @param eventsApplied events applied
 * @param eventsMalformed events dropped as malformed (no pod, no keys, a key of 0 or over 32 bytes,
 *     token ids that do not match keys x block tokens, no event)
 * @param eventsDropped well-formed events that could not be applied: a parent key the index does
 *     not know (evicted, or never seen), or every lane in use
 * @param evictions entries evicted because the table was full
 * @param reclaimed dead entries reclaimed
 */
public record IndexStats(
    long entries,
    long capacity,
    long engineEntries,
    long offHeapBytes,
    int pods,
    int namespaces,
    long eventsApplied,
    long eventsMalformed,
    long eventsDropped,
    long evictions,
    long reclaimed) {}
