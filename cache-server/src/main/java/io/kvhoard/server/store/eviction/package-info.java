/**
 * Which block the store evicts next. {@link io.kvhoard.server.store.eviction.EvictionPolicy} is the
 * contract between the tiered store and a policy; {@link
 * io.kvhoard.server.store.eviction.PrefixAwareLru} is the default (leaves only, least recently used
 * first) and {@link io.kvhoard.server.store.eviction.WindowTinyLfu} the frequency-filtered
 * alternative it was measured against. Pure logic over generic keys, with no I/O, threads or clock,
 * so the store and {@code perf}'s hit-ratio simulator run the same code.
 */
package io.kvhoard.server.store.eviction;
