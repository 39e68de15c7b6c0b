package io.kvhoard.protocol.frame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * A {@link ByteBufAllocator} that records the largest buffer anyone asked it for, delegating the
 * allocation itself. Installed as a channel's allocator, it sees every buffer a decoder allocates.
 */
final class CountingAllocator implements ByteBufAllocator {
  private final ByteBufAllocator delegate;
  private long largestRequest;
  private long requests;

  CountingAllocator(ByteBufAllocator delegate) {
    this.delegate = delegate;
  }

  /** Largest initial capacity requested; 256 (Netty's default) for a request without a size. */
  long largestRequest() {
    return largestRequest;
  }

  /** Number of buffer requests (composites included). */
  long requests() {
    return requests;
  }

  private void record(int capacity) {
    requests++;
    largestRequest = Math.max(largestRequest, capacity);
  }

  @Override
  public ByteBuf buffer() {
    record(256);
    return delegate.buffer();
  }

  @Override
  public ByteBuf buffer(int initialCapacity) {
    record(initialCapacity);
    return delegate.buffer(initialCapacity);
  }

  @Override
  public ByteBuf buffer(int initialCapacity, int maxCapacity) {
    record(initialCapacity);
    return delegate.buffer(initialCapacity, maxCapacity);
  }

  @Override
  public ByteBuf ioBuffer() {
    record(256);
    return delegate.ioBuffer();
  }

  @Override
  public ByteBuf ioBuffer(int initialCapacity) {
    record(initialCapacity);
    return delegate.ioBuffer(initialCapacity);
  }

  @Override
  public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) {
    record(initialCapacity);
    return delegate.ioBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public ByteBuf heapBuffer() {
    record(256);
    return delegate.heapBuffer();
  }

  @Override
  public ByteBuf heapBuffer(int initialCapacity) {
    record(initialCapacity);
    return delegate.heapBuffer(initialCapacity);
  }

  @Override
  public ByteBuf heapBuffer(int initialCapacity, int maxCapacity) {
    record(initialCapacity);
    return delegate.heapBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public ByteBuf directBuffer() {
    record(256);
    return delegate.directBuffer();
  }

  @Override
  public ByteBuf directBuffer(int initialCapacity) {
    record(initialCapacity);
    return delegate.directBuffer(initialCapacity);
  }

  @Override
  public ByteBuf directBuffer(int initialCapacity, int maxCapacity) {
    record(initialCapacity);
    return delegate.directBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public CompositeByteBuf compositeBuffer() {
    record(0);
    return delegate.compositeBuffer();
  }

  @Override
  public CompositeByteBuf compositeBuffer(int maxNumComponents) {
    record(0);
    return delegate.compositeBuffer(maxNumComponents);
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer() {
    record(0);
    return delegate.compositeHeapBuffer();
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
    record(0);
    return delegate.compositeHeapBuffer(maxNumComponents);
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer() {
    record(0);
    return delegate.compositeDirectBuffer();
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
    record(0);
    return delegate.compositeDirectBuffer(maxNumComponents);
  }

  @Override
  public boolean isDirectBufferPooled() {
    return delegate.isDirectBufferPooled();
  }

  @Override
  public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
    return delegate.calculateNewCapacity(minNewCapacity, maxCapacity);
  }
}
