/**
 * The kvhoard client library: {@link io.kvhoard.client.KvHoardClient} and its builder, the memory
 * it reads into and writes from ({@link io.kvhoard.client.BlockMemory}, {@link
 * io.kvhoard.client.PageTable}), result records, and the exceptions strict mode throws. Below it:
 * {@code discovery} (which servers), {@code placement} (which server holds a block), {@code
 * transport} (connections to one server).
 */
package io.kvhoard.client;
