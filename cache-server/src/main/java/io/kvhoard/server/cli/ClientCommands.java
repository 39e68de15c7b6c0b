package io.kvhoard.server.cli;

import io.kvhoard.protocol.frame.BlockStatus;
import io.kvhoard.protocol.frame.Frame;
import io.kvhoard.protocol.frame.FrameBuilder;
import io.kvhoard.protocol.frame.Opcode;
import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.NamespaceId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.zip.CRC32C;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code put}, {@code get}, {@code lookup} and {@code stats}: enough to see a server work from a
 * shell. Keys and namespaces are hex; blocks come from standard input and go to standard output.
 */
final class ClientCommands {
  private ClientCommands() {}

  /** Options every data-plane command shares. */
  static class Connection {
    @Option(
        names = "--server",
        paramLabel = "HOST:PORT",
        defaultValue = "127.0.0.1:7470",
        description = "The server's data-plane address. Default: ${DEFAULT-VALUE}.")
    String server;

    @Option(
        names = "--namespace",
        paramLabel = "HEX",
        defaultValue = "00000000000000000000000000000000",
        description = "The 16-byte namespace id in hex. Default: all zero.")
    String namespace;

    @Option(
        names = "--timeout",
        paramLabel = "SECONDS",
        defaultValue = "10",
        description = "Connect and read timeout. Default: ${DEFAULT-VALUE} s.")
    int timeoutSeconds;

    NamespaceId namespaceId() {
      try {
        return NamespaceId.fromHex(namespace);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "--namespace must be 32 hex digits (16 bytes), got '" + namespace + "'", e);
      }
    }

    FrameClient connect() throws IOException {
      return new FrameClient(server, Duration.ofSeconds(timeoutSeconds));
    }
  }

  static byte[] key(String hex) {
    try {
      return BlockKey.fromHex(hex).toBytes();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--key must be 64 hex digits (a 32-byte block key), got '" + hex + "'", e);
    }
  }

  /**
   * Sends one block request whose descriptors {@code blocks} adds, and returns the server's
   * successful response (the caller releases it).
   *
   * @throws IOException if the server answered with an error frame
   */
  static Frame request(
      FrameClient client, Connection c, Opcode op, java.util.function.Consumer<FrameBuilder> blocks)
      throws IOException {
    Frame req;
    try (FrameBuilder b = Frame.newRequest(op, client.nextId(), c.namespaceId(), client.alloc())) {
      blocks.accept(b);
      req = b.build();
    }
    Frame reply = client.call(req);
    check(reply);
    return reply;
  }

  static void check(Frame reply) throws IOException {
    if (reply.isError()) {
      String msg = reply.status() + ": " + reply.errorMessage();
      reply.release();
      throw new IOException("the server answered " + msg);
    }
  }

  @Command(
      name = "put",
      mixinStandardHelpOptions = true,
      description = "Store standard input as one block: kvhoard put --key HEX < file.",
      exitCodeListHeading = "%nExit status:%n",
      exitCodeList = {"0:stored (or already held: first writer wins)", "1:failed"})
  static final class Put implements Callable<Integer> {
    @picocli.CommandLine.Mixin Connection c = new Connection();

    @Option(names = "--key", required = true, paramLabel = "HEX", description = "Block key.")
    String key;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    private final InputStream stdin;

    Put(InputStream stdin) {
      this.stdin = stdin;
    }

    @Override
    public Integer call() throws IOException {
      byte[] k = key(key);
      byte[] data = stdin.readAllBytes();
      if (data.length == 0) {
        throw new IllegalArgumentException("standard input is empty: a block has at least 1 byte");
      }
      CRC32C crc = new CRC32C();
      crc.update(data);
      try (FrameClient client = c.connect()) {
        Frame reply =
            request(
                client,
                c,
                Opcode.PUT,
                b -> b.addPut(k, Unpooled.wrappedBuffer(data), (int) crc.getValue()));
        try {
          BlockStatus s = reply.blockStatus(0);
          PrintWriter out = spec.commandLine().getOut();
          switch (s) {
            case OK -> out.printf("stored %d bytes on %s%n", data.length, tierName(reply, 0));
            case EXISTS -> out.printf("already held (first writer wins); nothing changed%n");
            default -> {
              spec.commandLine().getErr().println("kvhoard put: the server answered " + s);
              return 1;
            }
          }
          return 0;
        } finally {
          reply.release();
        }
      }
    }
  }

  @Command(
      name = "get",
      mixinStandardHelpOptions = true,
      description = "Write one block to standard output: kvhoard get --key HEX > file.",
      exitCodeListHeading = "%nExit status:%n",
      exitCodeList = {"0:found", "1:failed", "2:not held (a miss)"})
  static final class Get implements Callable<Integer> {
    @picocli.CommandLine.Mixin Connection c = new Connection();

    @Option(names = "--key", required = true, paramLabel = "HEX", description = "Block key.")
    String key;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    private final OutputStream stdout;

    Get(OutputStream stdout) {
      this.stdout = stdout;
    }

    @Override
    public Integer call() throws IOException {
      byte[] k = key(key);
      try (FrameClient client = c.connect()) {
        Frame reply = request(client, c, Opcode.GET, b -> b.addGet(k, 0));
        try {
          BlockStatus s = reply.blockStatus(0);
          if (s == BlockStatus.NOT_FOUND) {
            spec.commandLine().getErr().println("kvhoard get: " + key + " is not held");
            return 2;
          }
          if (s != BlockStatus.OK) {
            spec.commandLine().getErr().println("kvhoard get: the server answered " + s);
            return 1;
          }
          if (!reply.blockPayloadMatchesCrc(0)) {
            spec.commandLine().getErr().println("kvhoard get: the block failed its CRC32C check");
            return 1;
          }
          ByteBuf p = reply.blockPayload(0);
          p.getBytes(p.readerIndex(), stdout, p.readableBytes());
          stdout.flush();
          return 0;
        } finally {
          reply.release();
        }
      }
    }
  }

  @Command(
      name = "lookup",
      mixinStandardHelpOptions = true,
      description =
          "How many of a prompt's block keys, in order, the server holds: kvhoard lookup --key K1"
              + " --key K2 ...")
  static final class Lookup implements Callable<Integer> {
    @picocli.CommandLine.Mixin Connection c = new Connection();

    @Option(
        names = "--key",
        required = true,
        paramLabel = "HEX",
        description = "Block keys of one prompt, first block first (repeat the option).")
    List<String> keys;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      try (FrameClient client = c.connect()) {
        Frame reply =
            request(
                client,
                c,
                Opcode.CONTAINS_PREFIX,
                b -> {
                  for (String k : keys) {
                    b.addKey(key(k));
                  }
                });
        try {
          PrintWriter out = spec.commandLine().getOut();
          int held = 0;
          for (int i = 0; i < reply.blockCount(); i++) {
            boolean ok = reply.blockStatus(i) == BlockStatus.OK;
            if (ok && held == i) {
              held++;
            }
            out.printf(
                "%s %s%s%n",
                keys.get(i),
                ok ? "held" : "missing",
                ok ? " " + reply.blockLength(i) + " bytes on " + tierName(reply, i) : "");
          }
          out.printf("cached prefix: %d of %d blocks%n", held, keys.size());
          return 0;
        } finally {
          reply.release();
        }
      }
    }
  }

  @Command(
      name = "stats",
      mixinStandardHelpOptions = true,
      description = "Print the server's store statistics (JSON from its HTTP /stats).")
  static final class Stats implements Callable<Integer> {
    @Option(
        names = "--http",
        paramLabel = "HOST:PORT",
        defaultValue = "127.0.0.1:7472",
        description = "The server's HTTP address. Default: ${DEFAULT-VALUE}.")
    String http;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
      HttpResponse<String> r;
      try {
        r =
            client.send(
                HttpRequest.newBuilder(URI.create("http://" + http + "/stats"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new IOException("cannot reach http://" + http + "/stats: " + e.getMessage(), e);
      }
      if (r.statusCode() != 200) {
        spec.commandLine().getErr().println("kvhoard stats: HTTP " + r.statusCode());
        return 1;
      }
      spec.commandLine().getOut().print(r.body());
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  static String tierName(Frame reply, int block) {
    return reply.blockTier(block).name().toLowerCase(Locale.ROOT);
  }
}
