package io.kvhoard.protocol.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.ServiceDescriptor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Guards the wire contract of {@code kvhoard.v1}: field numbers, service methods and their
 * streaming shapes. A change here breaks deployed clients and servers of another version; if it is
 * meant, add new fields with new numbers instead of renumbering.
 */
class ProtoContractTest {
  private static Map<String, Integer> fields(Descriptor d) {
    Map<String, Integer> m = new TreeMap<>();
    for (FieldDescriptor f : d.getFields()) {
      m.put(f.getName(), f.getNumber());
    }
    return m;
  }

  private static Map<String, MethodType> methods(ServiceDescriptor s) {
    Map<String, MethodType> m = new LinkedHashMap<>();
    s.getMethods().forEach(md -> m.put(md.getBareMethodName(), md.getType()));
    return m;
  }

  @Test
  void namespaceAndLayout_fieldNumbers_stable() {
    assertEquals(
        Map.of(
            "model_id", 1,
            "layout", 2,
            "format_version", 3,
            "cache_salt", 4,
            "lora_name", 5,
            "hash_seed", 6),
        fields(Namespace.getDescriptor()));
    assertEquals(
        Map.of(
            "layers", 1,
            "kv_heads", 2,
            "head_dim", 3,
            "dtype", 4,
            "block_tokens", 5,
            "tp_rank", 6,
            "tp_size", 7),
        fields(KvLayout.getDescriptor()));
  }

  @Test
  void blockEvent_carriesNamespacePodSequenceAndOneEvent() {
    Map<String, Integer> f = fields(BlockEvent.getDescriptor());
    assertEquals(1, f.get("namespace"));
    assertEquals(2, f.get("pod"));
    assertEquals(3, f.get("sequence"));
    assertEquals(10, f.get("stored"));
    assertEquals(11, f.get("removed"));
    assertEquals(12, f.get("cleared"));
    assertEquals(
        Map.of(
            "keys", 1,
            "parent_key", 2,
            "token_ids", 3,
            "block_tokens", 4,
            "tier", 5),
        fields(BlockStored.getDescriptor()));
  }

  @Test
  void cacheService_methodsAndStreamingShapes() {
    Map<String, MethodType> m = methods(CacheServiceGrpc.getServiceDescriptor());
    assertEquals(MethodType.UNARY, m.get("Lookup"));
    assertEquals(MethodType.UNARY, m.get("Stats"));
    assertEquals(MethodType.UNARY, m.get("Pin"));
    assertEquals(MethodType.UNARY, m.get("Unpin"));
    assertEquals(MethodType.UNARY, m.get("Delete"));
    assertEquals(MethodType.CLIENT_STREAMING, m.get("Put"));
    assertEquals(MethodType.SERVER_STREAMING, m.get("Get"));
    assertEquals(7, m.size());
  }

  @Test
  void indexService_methodsAndStreamingShapes() {
    Map<String, MethodType> m = methods(IndexServiceGrpc.getServiceDescriptor());
    assertEquals(MethodType.UNARY, m.get("Score"));
    assertEquals(MethodType.CLIENT_STREAMING, m.get("Publish"));
    assertEquals(MethodType.SERVER_STREAMING, m.get("Follow"));
    assertEquals(3, m.size());
  }

  @Test
  void scoreRequest_roundTrip_keepsTokenIdsAbove2To32() throws Exception {
    ScoreRequest req =
        ScoreRequest.newBuilder()
            .setTokenIds(TokenIds.newBuilder().addIds(1L << 40).addIds(7))
            .addPods("pod-0")
            .putPodLoad("pod-0", 3.5)
            .build();
    ScoreRequest back = ScoreRequest.parseFrom(req.toByteArray());
    assertEquals(1L << 40, back.getTokenIds().getIds(0));
    assertEquals(3.5, back.getPodLoadOrThrow("pod-0"));
    assertNotNull(CacheProto.getDescriptor().findServiceByName("CacheService"));
  }
}
