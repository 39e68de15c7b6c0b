package io.kvhoard.server.config;

import java.util.Locale;

/**
 * Every setting of {@code kvhoard serve}: its flag, environment variable and YAML key (all derived
 * from one name), its default and its documentation. The one table the command line, the
 * environment, the config file and {@code serve --help} are generated from.
 */
public enum Setting {
  DATA_DIR("data-dir", "PATH", "kvhoard-data", "Directory of the disk tier and block directory."),
  BIND("bind", "ADDRESS", "127.0.0.1", "Address every port binds to (0.0.0.0 for all)."),
  DATA_PORT("data-port", "PORT", "7470", "Data-plane port (binary frames; 0 = any free port)."),
  GRPC_PORT("grpc-port", "PORT", "7471", "gRPC control-plane port (0 = any free port)."),
  HTTP_PORT("http-port", "PORT", "7472", "HTTP port: /metrics, /healthz, /readyz, /stats."),
  HOST_CAPACITY(
      "host-capacity",
      "SIZE",
      "auto",
      "Host (RAM) tier size, e.g. 4g, 512m; auto = a quarter of physical memory, at most 8g."),
  DISK_CAPACITY(
      "disk-capacity",
      "SIZE",
      "auto",
      "Disk tier size; 0 disables the tier; auto = half the free space of data-dir, at most"
          + " 64g."),
  HOST_PRETOUCH(
      "host-pretouch",
      "BOOL",
      "false",
      "Back all host-tier memory at start: no page faults on first puts, and a too small"
          + " /dev/shm fails at start; costs about a second per 4 GiB. Recommended for dedicated"
          + " servers."),
  PAGE_SIZE("page-size", "SIZE", "256k", "Host tier page size (4k .. 64m, a power of two)."),
  BLOCK_TOKENS(
      "block-tokens",
      "N",
      "16",
      "Tokens in a full block, for the eviction policy's partial-tail rule."),
  DIRECTORY_ENTRIES(
      "directory-entries",
      "N",
      "auto",
      "Blocks the block directory is sized for; auto = the tiers' capacity in 64 KiB blocks."),
  IO_THREADS(
      "io-threads",
      "N",
      "0",
      "Network event-loop threads; 0 = two per CPU, at least 4 (a loop sends one large response"
          + " at a time)."),
  SEND_BUFFER(
      "send-buffer",
      "SIZE",
      "0",
      "Socket send buffer (SO_SNDBUF) of data-plane connections; 0 = the kernel's autotuning"
          + " (net.ipv4.tcp_wmem). A size fixes it (the kernel doubles it, up to"
          + " net.core.wmem_max x 2): a 2 MiB response then leaves in fewer writes."),
  MAX_FRAME("max-frame", "SIZE", "256m", "Largest data-plane frame accepted (4k .. 1g)."),
  CONNECTION_INFLIGHT(
      "connection-inflight",
      "SIZE",
      "512m",
      "Request bytes one connection may have in flight before the server stops reading it."),
  GLOBAL_INFLIGHT(
      "global-inflight",
      "SIZE",
      "2g",
      "Request bytes all connections together may have in flight before reads pause."),
  REQUEST_TIMEOUT(
      "request-timeout",
      "DURATION",
      "30s",
      "Time a client may take to send one whole frame; slower connections are closed."),
  IDLE_TIMEOUT("idle-timeout", "DURATION", "5m", "Connections silent this long are closed."),
  SHUTDOWN_GRACE(
      "shutdown-grace",
      "DURATION",
      "10s",
      "On SIGTERM, time given to in-flight requests before the tiers close."),
  // The prefix index and routing scores (issue 6).
  INDEX_CAPACITY(
      "index-capacity",
      "N",
      "4000000",
      "(block, pod) entries the prefix index holds, about 21 bytes each off-heap (events with"
          + " token ids add about 32 per engine block); when full, the oldest are evicted."),
  INDEX_BLOCK_TOKENS(
      "index-block-tokens",
      "N",
      "16",
      "Tokens per block of the prefix index's own keys (1 .. 256; vLLM's default is 16)."),
  INDEX_POD_TTL(
      "index-pod-ttl",
      "DURATION",
      "5m",
      "A pod with no block event for this long leaves the scores; its index entries are dropped."),
  INDEX_TIER_WEIGHTS(
      "index-tier-weights",
      "GPU,HOST,DISK",
      "1,0.9,0.6",
      "Weight of a cached block per tier in routing scores; 1 >= gpu >= host >= disk >= 0."),
  INDEX_LOAD_UNIT(
      "index-load-unit",
      "SECONDS",
      "1",
      "Seconds of queue one unit of a Score request's pod_load stands for (1 when callers send"
          + " queued prefill seconds; a request's mean prefill time when they send queue"
          + " lengths)."),
  VLLM_EVENTS(
      "vllm-events",
      "POD=ENDPOINT[|REPLAY],...",
      "none",
      "vLLM pods whose KV events the prefix index follows, comma-separated:"
          + " POD[@MODEL]=tcp://HOST:PORT[|tcp://HOST:REPLAY_PORT], e.g."
          + " 'vllm-0=tcp://10.0.0.5:5557|tcp://10.0.0.5:5558' (quote the '|' in a shell)."
          + " The endpoints are vLLM's --kv-events-config endpoint and replay_endpoint; the model"
          + " comes from the topic kv@POD@MODEL, else from @MODEL. Lost events are replayed from"
          + " REPLAY, or the pod's entries cleared when it has none. none = no pods."),
  VLLM_REPLAY_TIMEOUT(
      "vllm-replay-timeout",
      "DURATION",
      "2s",
      "Time a vLLM pod's replay socket has to resend lost events before the pod's index entries"
          + " are cleared instead.");

  private final String name;
  private final String label;
  private final String defaultValue;
  private final String description;

  Setting(String name, String label, String defaultValue, String description) {
    this.name = name;
    this.label = label;
    this.defaultValue = defaultValue;
    this.description = description;
  }

  /** The name: the flag without {@code --}, and the YAML key. */
  public String key() {
    return name;
  }

  public String flag() {
    return "--" + name;
  }

  /** The environment variable: {@code KVHOARD_} and the name in upper case with underscores. */
  public String env() {
    return "KVHOARD_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  public String label() {
    return label;
  }

  public String defaultValue() {
    return defaultValue;
  }

  public String description() {
    return description;
  }
}
