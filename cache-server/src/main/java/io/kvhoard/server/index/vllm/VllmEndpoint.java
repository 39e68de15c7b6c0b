package io.kvhoard.server.index.vllm;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One vLLM pod to follow: its name, its ZeroMQ PUB endpoint ({@code --kv-events-config}'s {@code
 * endpoint}) and optionally its ROUTER replay endpoint ({@code replay_endpoint}) and a model id for
 * topics that do not carry one.
 *
 * <p>Text form, as {@code serve --vllm-events} takes it, entries separated by commas:
 *
 * <pre>POD[@MODEL]=ENDPOINT[|REPLAY_ENDPOINT]</pre>
 *
 * <p>e.g. {@code vllm-0=tcp://10.0.0.5:5557|tcp://10.0.0.5:5558,vllm-1=tcp://10.0.0.6:5557}.
 * Endpoints are {@code tcp://HOST:PORT} or {@code ipc://PATH}. The model comes from the event topic
 * {@code kv@<pod>@<model>} when the pod publishes one; {@code @MODEL} is used otherwise.
 *
 * @param pod the pod name events are attributed to
 * @param model the model id for topics without one; empty for none
 * @param events the PUB endpoint to subscribe to
 * @param replay the ROUTER replay endpoint, or {@code null} if the pod has none
 */
public record VllmEndpoint(String pod, String model, String events, String replay) {
  private static final Pattern ENDPOINT =
      Pattern.compile("(tcp://(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9._-]+):(\\d{1,5})|ipc://.+)");
  private static final Pattern POD = Pattern.compile("[A-Za-z0-9._:-]+");

  public VllmEndpoint {
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(events, "events");
    if (!POD.matcher(pod).matches()) {
      throw new IllegalArgumentException(
          "pod name '" + pod + "' must be letters, digits, '.', '_', ':' or '-'");
    }
    checkEndpoint(events);
    if (replay != null) {
      checkEndpoint(replay);
    }
  }

  private static void checkEndpoint(String e) {
    var m = ENDPOINT.matcher(e);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + e + "' is not a ZeroMQ endpoint: use tcp://HOST:PORT or ipc://PATH");
    }
    if (m.group(3) != null) {
      int port = Integer.parseInt(m.group(3));
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("'" + e + "': port must be 1 to 65535");
      }
    }
  }

  /**
   * Parses the {@code --vllm-events} text: empty or {@code none} for no pods.
   *
   * @throws IllegalArgumentException saying which entry is wrong and what is accepted
   */
  public static List<VllmEndpoint> parseList(String text) {
    String t = text.trim();
    List<VllmEndpoint> out = new ArrayList<>();
    if (t.isEmpty() || t.toLowerCase(Locale.ROOT).equals("none")) {
      return out;
    }
    Set<String> pods = new HashSet<>();
    for (String entry : t.split(",", -1)) {
      String e = entry.trim();
      int eq = e.indexOf('=');
      if (eq <= 0 || eq == e.length() - 1) {
        throw new IllegalArgumentException(
            "'"
                + e
                + "' is not POD[@MODEL]=ENDPOINT[|REPLAY_ENDPOINT]"
                + " (e.g. vllm-0=tcp://10.0.0.5:5557|tcp://10.0.0.5:5558)");
      }
      String name = e.substring(0, eq).trim();
      String model = "";
      int at = name.indexOf('@');
      if (at >= 0) {
        model = name.substring(at + 1);
        name = name.substring(0, at);
        if (model.isEmpty()) {
          throw new IllegalArgumentException("'" + e + "': empty model after '@'");
        }
      }
      String[] ends = e.substring(eq + 1).split("\\|", -1);
      if (ends.length > 2) {
        throw new IllegalArgumentException(
            "'" + e + "': at most two endpoints (events|replay), separated by one '|'");
      }
      VllmEndpoint v;
      try {
        v = new VllmEndpoint(name, model, ends[0].trim(), ends.length == 2 ? ends[1].trim() : null);
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("'" + e + "': " + ex.getMessage(), ex);
      }
      if (!pods.add(v.pod())) {
        throw new IllegalArgumentException("pod '" + v.pod() + "' is given twice");
      }
      out.add(v);
    }
    return List.copyOf(out);
  }

  /** The text form, which {@link #parseList} reads back. */
  @Override
  public String toString() {
    return pod
        + (model.isEmpty() ? "" : "@" + model)
        + "="
        + events
        + (replay == null ? "" : "|" + replay);
  }
}
