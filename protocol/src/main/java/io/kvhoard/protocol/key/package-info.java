/**
 * Keys: what a KV block is called everywhere in kvhoard.
 *
 * <p>A prompt's token ids are cut into blocks of {@link
 * io.kvhoard.protocol.key.KvLayout#blockTokens()} tokens; block {@code i}'s {@link
 * io.kvhoard.protocol.key.BlockKey} is a SHA-256 over (key of block {@code i-1}, the tokens of
 * block {@code i}, extra keys), computed by {@link io.kvhoard.protocol.key.PrefixHasher} exactly as
 * vLLM's {@code sha256_cbor} does, so one key stands for the whole prefix and a Java client and a
 * vLLM pod with the same seed agree. A {@link io.kvhoard.protocol.key.Namespace} (model, layout,
 * format version, tenant salt, LoRA, seed) scopes every stored key: its 16-byte {@link
 * io.kvhoard.protocol.key.NamespaceId} travels with every request, so blocks of different layouts
 * or tenants can never be confused.
 */
package io.kvhoard.protocol.key;
