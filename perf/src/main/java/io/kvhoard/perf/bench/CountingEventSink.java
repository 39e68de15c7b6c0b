package io.kvhoard.perf.bench;

import io.kvhoard.protocol.v1.BlockEvent;
import io.kvhoard.server.index.BlockEventSink;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.LongAdder;

/**
 * A sink that counts the events it is given and logs them at {@code DEBUG}: the ingestion
 * benchmark's "decode and deliver to something cheap" case, beside the real index and a no-op.
 *
 * <p>Thread-safe.
 */
final class CountingEventSink implements BlockEventSink {
  private static final System.Logger LOG = System.getLogger(CountingEventSink.class.getName());

  private final LongAdder stored = new LongAdder();
  private final LongAdder removed = new LongAdder();
  private final LongAdder cleared = new LongAdder();
  private final LongAdder blocks = new LongAdder();

  @Override
  public void accept(BlockEvent event) {
    switch (event.getEventCase()) {
      case STORED -> {
        stored.increment();
        blocks.add(event.getStored().getKeysCount());
      }
      case REMOVED -> {
        removed.increment();
        blocks.add(event.getRemoved().getKeysCount());
      }
      case CLEARED -> cleared.increment();
      case EVENT_NOT_SET -> {
        return;
      }
    }
    if (LOG.isLoggable(Level.DEBUG)) {
      LOG.log(
          Level.DEBUG,
          "block event from "
              + event.getPod()
              + " #"
              + event.getSequence()
              + ": "
              + event.getEventCase());
    }
  }

  /** BlockStored events received. */
  public long stored() {
    return stored.sum();
  }

  /** BlockRemoved events received. */
  public long removed() {
    return removed.sum();
  }

  /** Cleared events received. */
  public long cleared() {
    return cleared.sum();
  }

  /** Blocks named by the stored and removed events. */
  public long blocks() {
    return blocks.sum();
  }
}
