package io.kvhoard.client;

/**
 * What a retrieve filled: the leading {@code blocks} blocks of the destination hold the prompt's
 * KV, each checked against its CRC32C; nothing after them is valid (the engine recomputes from
 * token {@code tokens} on).
 *
 * @param tokens leading tokens filled: {@code blocks × block tokens}
 * @param blocks leading blocks filled
 * @param stop why it stopped there
 */
public record RetrieveResult(int tokens, int blocks, StopReason stop) {}
