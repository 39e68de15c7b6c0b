package io.kvhoard.server.transport.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kvhoard.protocol.v1.Namespace;
import io.kvhoard.server.index.Scorer;
import io.kvhoard.server.index.Scoring;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/score}: the JSON form of {@code IndexService.Score} for gateways without gRPC.
 *
 * <p>Request: {@code {"model": "...", "token_ids": [...], "lora_name"?: "...", "cache_salt"?:
 * "...", "pods"?: ["..."], "pod_load"?: {"pod": n}}}. Response: {@code {"pods": [{"pod", "blocks",
 * "tokens", "tiers": {"gpu", "host", "disk"}, "score"}]}}, best first. A bad request is answered
 * with {@link BadRequest}, whose message names the field.
 *
 * <p>Stateless and thread-safe.
 */
final class ScoreJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ScoreJson() {}

  /** A request the client must fix; the message says what. */
  static final class BadRequest extends Exception {
    private static final long serialVersionUID = 1L;

    BadRequest(String message) {
      super(message);
    }
  }

  static String handle(Scoring scoring, byte[] body) throws BadRequest {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      throw new BadRequest("the body is not JSON: " + m);
    }
    if (root == null || !root.isObject()) {
      throw new BadRequest("the body must be a JSON object with \"model\" and \"token_ids\"");
    }
    Namespace ns =
        Namespace.newBuilder()
            .setModelId(text(root, "model", true))
            .setLoraName(text(root, "lora_name", false))
            .setCacheSalt(text(root, "cache_salt", false))
            .build();
    JsonNode ids = root.get("token_ids");
    if (ids == null || !ids.isArray()) {
      throw new BadRequest("\"token_ids\" must be an array of token ids");
    }
    long[] tokens = new long[ids.size()];
    for (int i = 0; i < tokens.length; i++) {
      JsonNode t = ids.get(i);
      if (!t.canConvertToLong() || !t.isIntegralNumber() || t.asLong() < 0) {
        throw new BadRequest("\"token_ids\"[" + i + "] is not a token id (a whole number >= 0)");
      }
      tokens[i] = t.asLong();
    }
    List<String> pods = new ArrayList<>();
    JsonNode p = root.get("pods");
    if (p != null && !p.isNull()) {
      if (!p.isArray()) {
        throw new BadRequest("\"pods\" must be an array of pod names");
      }
      for (JsonNode n : p) {
        if (!n.isTextual()) {
          throw new BadRequest("\"pods\" must be an array of pod names");
        }
        pods.add(n.asText());
      }
    }
    Map<String, Double> load = new HashMap<>();
    JsonNode l = root.get("pod_load");
    if (l != null && !l.isNull()) {
      if (!l.isObject()) {
        throw new BadRequest("\"pod_load\" must be an object of pod name: load");
      }
      for (Map.Entry<String, JsonNode> e : l.properties()) {
        if (!e.getValue().isNumber()) {
          throw new BadRequest("\"pod_load\".\"" + e.getKey() + "\" must be a number");
        }
        load.put(e.getKey(), e.getValue().asDouble());
      }
    }
    List<Scorer.PodScore> scores = scoring.forTokens(ns, tokens, pods, load);
    ObjectNode out = JSON.createObjectNode();
    ArrayNode arr = out.putArray("pods");
    for (Scorer.PodScore s : scores) {
      ObjectNode o = arr.addObject();
      o.put("pod", s.pod());
      o.put("blocks", s.blocks());
      o.put("tokens", s.tokens());
      ObjectNode t = o.putObject("tiers");
      t.put("gpu", s.gpu());
      t.put("host", s.host());
      t.put("disk", s.disk());
      o.put("score", s.score());
    }
    return out.toString() + "\n";
  }

  private static String text(JsonNode root, String field, boolean required) throws BadRequest {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      if (required) {
        throw new BadRequest("\"" + field + "\" is required");
      }
      return "";
    }
    if (!n.isTextual()) {
      throw new BadRequest("\"" + field + "\" must be a string");
    }
    return n.asText();
  }

  static String error(String message) {
    ObjectNode o = JSON.createObjectNode();
    o.put("error", message);
    return o.toString() + "\n";
  }
}
