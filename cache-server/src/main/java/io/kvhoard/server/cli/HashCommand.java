package io.kvhoard.server.cli;

import io.kvhoard.protocol.key.BlockKey;
import io.kvhoard.protocol.key.PrefixHasher;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kvhoard hash}: prints the prefix keys of a prompt's token ids exactly as vLLM's {@code
 * sha256_cbor} computes them, one line per full block.
 *
 * <p>It answers "why do my pods never share cache hits": run it with each pod's {@code
 * PYTHONHASHSEED}, block size, LoRA name and salt, and compare with the {@code block_hashes} of the
 * pods' KV events.
 */
@Command(
    name = "hash",
    mixinStandardHelpOptions = true,
    description = {
      "Print the prefix-cache keys of token ids read from standard input, one line per full block,"
          + " as vLLM's sha256_cbor computes them.",
      "Input: token ids (unsigned integers) separated by whitespace or commas; [ and ] are"
          + " ignored, so a JSON or Python list can be pasted as it is. Tokens after the last full"
          + " block are not keyed (a note goes to standard error)."
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {"0:keys printed", "1:bad input (the message names the token)", "2:bad usage"})
final class HashCommand implements Callable<Integer> {
  /** Output formats. */
  enum Format {
    u64,
    hex
  }

  @Option(
      names = "--seed",
      required = true,
      paramLabel = "S",
      description = "Hash seed: the engine's PYTHONHASHSEED, as text (\"42\" and \"042\" differ).")
  private String seed;

  @Option(
      names = "--block-size",
      required = true,
      paramLabel = "N",
      description = "Tokens per block (vLLM's --block-size, 16 by default there).")
  private int blockSize;

  @Option(
      names = "--extra-key",
      paramLabel = "K",
      description =
          "Extra key hashed into every block, such as the LoRA adapter name; repeat for several,"
              + " in order.")
  private List<String> extraKeys = new ArrayList<>();

  @Option(
      names = "--salt",
      paramLabel = "S",
      description = "The request's cache_salt: hashed into the first block only.")
  private String salt;

  @Option(
      names = "--format",
      paramLabel = "F",
      defaultValue = "u64",
      description =
          "u64: the 64-bit form in vLLM's KV events (last 8 bytes, big-endian, unsigned decimal);"
              + " hex: the full 32-byte digest as 64 hex digits. Default: ${DEFAULT-VALUE}.")
  private Format format;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  private final InputStream in;

  HashCommand(InputStream in) {
    this.in = in;
  }

  @Override
  public Integer call() throws IOException {
    if (blockSize < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--block-size must be at least 1, got " + blockSize);
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    long[] tokens;
    try {
      tokens = parseTokens(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      err.println("kvhoard hash: " + e.getMessage());
      return 1;
    }
    PrefixHasher.Builder b = PrefixHasher.newBuilder().seed(seed).blockSize(blockSize);
    extraKeys.forEach(b::extraKey);
    PrefixHasher hasher = b.cacheSalt(salt).build();
    StringBuilder text = new StringBuilder();
    for (BlockKey key : hasher.hash(tokens)) {
      text.append(format == Format.hex ? key.toHex() : Long.toUnsignedString(key.eventHash()))
          .append('\n');
    }
    out.print(text);
    out.flush();
    int rest = tokens.length % blockSize;
    if (rest != 0 || tokens.length == 0) {
      err.printf(
          "kvhoard hash: %d tokens make %d full blocks of %d; the last %d tokens are not keyed%n",
          tokens.length, tokens.length / blockSize, blockSize, rest);
    }
    return 0;
  }

  /**
   * Parses unsigned 64-bit token ids separated by whitespace, commas or brackets.
   *
   * @throws IllegalArgumentException naming the first bad token and its position
   */
  static long[] parseTokens(String text) {
    String[] parts = text.split("[\\s,\\[\\]]+");
    long[] tokens = new long[parts.length];
    int n = 0;
    for (String p : parts) {
      if (p.isEmpty()) {
        continue;
      }
      try {
        tokens[n] = Long.parseUnsignedLong(p);
        n++;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "token "
                + n
                + " is not a token id: '"
                + (p.length() > 40 ? p.substring(0, 40) + "..." : p)
                + "' (ids are unsigned integers below 2^64)",
            e);
      }
    }
    return java.util.Arrays.copyOf(tokens, n);
  }
}
