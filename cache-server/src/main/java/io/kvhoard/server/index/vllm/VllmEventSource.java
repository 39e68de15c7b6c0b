package io.kvhoard.server.index.vllm;

import io.kvhoard.server.index.BlockEventSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * Follows the KV events of vLLM pods and delivers them to a {@link BlockEventSink}: one ZeroMQ SUB
 * socket per pod ({@link VllmEndpoint#events()}), and a DEALER on the pod's ROUTER replay socket
 * when it has one. Messages are vLLM's three frames {@code [topic, 8-byte big-endian sequence,
 * msgpack EventBatch]}; {@link VllmEventDecoder} maps the payloads, and each pod's {@code
 * PodStream} orders them, replays gaps, or clears the pod when events are lost for good.
 *
 * <p>Replay framing (vLLM's {@code ZmqEventPublisher._service_replay}): the ROUTER receives {@code
 * [identity, "", start_seq]} — what a DEALER sending {@code ["", start_seq]} produces — and answers
 * each buffered batch from {@code start_seq} as {@code [identity, "", seq, payload]}, then {@code
 * [identity, "", -1, ""]}; the DEALER receives them without the identity.
 *
 * <p>One thread runs every pod's sockets (a ZeroMQ poller); it is the {@link Builder#executor}'s
 * and runs from {@link #start()} to {@link #close()}. Reconnection is ZeroMQ's own (a SUB socket
 * reconnects by itself; what was published meanwhile is a gap). Nothing a pod sends can stop the
 * loop: bad frames and payloads are counted and dropped. JeroMQ runs one I/O thread of its own.
 *
 * <p>Meters ({@code pod} tag): {@code kvhoard.vllm.batches}, {@code .events} (by type), {@code
 * .blocks}, {@code .gaps}, {@code .replays} (by outcome), {@code .clears}, {@code .restarts},
 * {@code .decode.errors}, {@code .frames.malformed}.
 *
 * <p>Thread-safe: {@link #start()} and {@link #close()} may be called from any thread.
 */
public final class VllmEventSource implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(VllmEventSource.class.getName());

  /** Longest wait in one poll, so that {@link #close()} is noticed quickly. */
  private static final long POLL_MILLIS = 100;

  /**
   * ZMTP 3.1 heartbeats and a handshake deadline: a pod that vanished without closing its
   * connection, or a connection stuck before its handshake, is dropped and redialled instead of
   * being waited on for ever (what was published meanwhile is then a gap).
   */
  private static void keepAlive(ZMQ.Socket s) {
    s.setLinger(0);
    s.setHandshakeIvl(5_000);
    s.setHeartbeatIvl(2_000);
    s.setHeartbeatTimeout(6_000);
    s.setReconnectIVLMax(5_000);
  }

  /** Messages read from one socket per poll before the others get a turn. */
  private static final int BURST = 1024;

  private final List<VllmEndpoint> endpoints;
  private final BlockEventSink sink;
  private final MeterRegistry registry;
  private final Executor executor;
  private final Duration replayTimeout;
  private final Clock clock;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running;
  private boolean started;

  private VllmEventSource(Builder b) {
    this.endpoints = List.copyOf(b.endpoints);
    this.sink = b.sink;
    this.registry = b.registry;
    this.executor = b.executor;
    this.replayTimeout = b.replayTimeout;
    this.clock = b.clock;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The pods followed. */
  public List<VllmEndpoint> endpoints() {
    return endpoints;
  }

  /** Starts following the pods on the executor. Once only. */
  public synchronized VllmEventSource start() {
    if (started) {
      throw new IllegalStateException("already started");
    }
    started = true;
    running = true;
    executor.execute(this::loop);
    LOG.log(Level.INFO, "following vLLM KV events of " + endpoints);
    return this;
  }

  /** Stops the loop and closes every socket; waits up to 5 s for it. Idempotent. */
  @Override
  public synchronized void close() {
    if (!started) {
      return;
    }
    running = false;
    try {
      if (!stopped.await(5, TimeUnit.SECONDS)) {
        LOG.log(Level.WARNING, "the vLLM event loop did not stop within 5 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One pod's sockets and stream. Loop-thread confined. */
  private final class Pod implements PodStream.ReplayChannel {
    final VllmEndpoint endpoint;
    final ZContext ctx;
    final Counter malformed;
    ZMQ.Socket sub;
    ZMQ.Socket dealer;
    PodStream stream;
    boolean socketsChanged;

    Pod(VllmEndpoint endpoint, ZContext ctx) {
      this.endpoint = endpoint;
      this.ctx = ctx;
      this.malformed =
          Counter.builder("kvhoard.vllm.frames.malformed")
              .description("Messages without vLLM's frames, dropped")
              .tag("pod", endpoint.pod())
              .register(registry);
    }

    void open() {
      sub = ctx.createSocket(SocketType.SUB);
      keepAlive(sub);
      sub.setRcvHWM(100_000); // vLLM's PUB high-water mark
      sub.subscribe(ZMQ.SUBSCRIPTION_ALL);
      sub.connect(endpoint.events());
      if (endpoint.replay() != null) {
        openDealer();
      }
      VllmEventDecoder decoder =
          VllmEventDecoder.newBuilder()
              .pod(endpoint.pod())
              .model(endpoint.model())
              .registry(registry)
              .build();
      stream =
          new PodStream(
              decoder,
              sink,
              endpoint.replay() == null ? null : this,
              replayTimeout.toMillis(),
              clock,
              registry);
    }

    private void openDealer() {
      dealer = ctx.createSocket(SocketType.DEALER);
      keepAlive(dealer);
      dealer.setRcvHWM(100_000);
      dealer.connect(endpoint.replay());
      socketsChanged = true;
    }

    @Override
    public boolean request(long fromSeq) {
      byte[] seq = ByteBuffer.allocate(8).putLong(fromSeq).array();
      return dealer.send(new byte[0], ZMQ.SNDMORE | ZMQ.DONTWAIT) && dealer.send(seq, ZMQ.DONTWAIT);
    }

    @Override
    public void reset() {
      dealer.close();
      openDealer();
    }

    /** Reads up to {@link #BURST} messages from the SUB socket. */
    void readLive() {
      for (int i = 0; i < BURST; i++) {
        List<byte[]> frames = receive(sub);
        if (frames == null) {
          return;
        }
        if (frames.size() != 3 || frames.get(1).length != 8) {
          malformed.increment();
          continue;
        }
        stream.onLive(ByteBuffer.wrap(frames.get(1)).getLong(), frames.get(0), frames.get(2));
      }
    }

    /** Reads up to {@link #BURST} replies from the DEALER socket. */
    void readReplay() {
      for (int i = 0; i < BURST && dealer != null; i++) {
        ZMQ.Socket d = dealer;
        List<byte[]> frames = receive(d);
        if (frames == null) {
          return;
        }
        int at = !frames.isEmpty() && frames.get(0).length == 0 ? 1 : 0; // the delimiter
        if (frames.size() - at != 2 || frames.get(at).length != 8) {
          malformed.increment();
          continue;
        }
        stream.onReplay(ByteBuffer.wrap(frames.get(at)).getLong(), frames.get(at + 1));
        if (d != dealer) {
          return; // the stream abandoned the replay and reopened the socket
        }
      }
    }
  }

  private static List<byte[]> receive(ZMQ.Socket s) {
    byte[] first = s.recv(ZMQ.DONTWAIT);
    if (first == null) {
      return null;
    }
    List<byte[]> frames = new ArrayList<>(3);
    frames.add(first);
    while (s.hasReceiveMore()) {
      frames.add(s.recv(0));
    }
    return frames;
  }

  private void loop() {
    ZContext ctx = new ZContext(1);
    ctx.setLinger(0);
    List<Pod> pods = new ArrayList<>();
    ZMQ.Poller poller = null;
    try {
      for (VllmEndpoint e : endpoints) {
        Pod p = new Pod(e, ctx);
        try {
          p.open();
          pods.add(p);
        } catch (RuntimeException ex) {
          LOG.log(Level.ERROR, "cannot follow vLLM pod " + e + ": " + ex.getMessage(), ex);
        }
      }
      if (pods.isEmpty()) {
        return;
      }
      List<Runnable> readers = new ArrayList<>();
      boolean rebuild = true;
      while (running) {
        if (rebuild) {
          if (poller != null) {
            poller.close();
          }
          poller = ctx.createPoller(2 * pods.size());
          readers.clear();
          for (Pod p : pods) {
            readers.add(poller.register(p.sub, ZMQ.Poller.POLLIN), p::readLive);
            if (p.dealer != null) {
              readers.add(poller.register(p.dealer, ZMQ.Poller.POLLIN), p::readReplay);
            }
            p.socketsChanged = false;
          }
          rebuild = false;
        }
        long now = clock.millis();
        long wait = POLL_MILLIS;
        for (Pod p : pods) {
          wait = Math.min(wait, Math.max(0, p.stream.deadline() - now));
        }
        poller.poll(Math.max(1, wait));
        for (int i = 0; i < readers.size(); i++) {
          if (poller.pollin(i)) {
            runSafely(readers.get(i));
          }
        }
        for (Pod p : pods) {
          runSafely(p.stream::onTick);
          rebuild |= p.socketsChanged;
        }
      }
    } catch (RuntimeException e) {
      if (running) {
        LOG.log(Level.ERROR, "the vLLM event loop failed: " + e.getMessage(), e);
      }
    } finally {
      if (poller != null) {
        poller.close();
      }
      ctx.close();
      stopped.countDown();
    }
  }

  private static void runSafely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.log(Level.ERROR, "vLLM event handling failed: " + e.getMessage(), e);
    }
  }

  /** Builds a source; endpoints, sink, registry and executor are required. */
  public static final class Builder {
    private final List<VllmEndpoint> endpoints = new ArrayList<>();
    private BlockEventSink sink;
    private MeterRegistry registry;
    private Executor executor;
    private Duration replayTimeout = Duration.ofSeconds(2);
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** The pods to follow; at least one. */
    public Builder endpoints(List<VllmEndpoint> endpoints) {
      this.endpoints.addAll(Objects.requireNonNull(endpoints, "endpoints"));
      return this;
    }

    /** Where events go (the prefix index). */
    public Builder sink(BlockEventSink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    public Builder registry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Runs the source's loop: one long task from {@link #start()} to {@link #close()}. */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** How long a replay may take before the pod is cleared instead; default 2 s. */
    public Builder replayTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("replay timeout must be positive, got " + timeout);
      }
      this.replayTimeout = timeout;
      return this;
    }

    /** Time of replay deadlines and of the {@code Cleared} events the source makes. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public VllmEventSource build() {
      if (endpoints.isEmpty()) {
        throw new IllegalStateException("no vLLM endpoints to follow");
      }
      List<String> pods = new ArrayList<>();
      for (VllmEndpoint e : endpoints) {
        if (pods.contains(e.pod())) {
          throw new IllegalStateException("pod '" + e.pod() + "' is given twice");
        }
        pods.add(e.pod());
      }
      if (sink == null || registry == null || executor == null) {
        throw new IllegalStateException("sink, registry and executor are required");
      }
      return new VllmEventSource(this);
    }
  }
}
