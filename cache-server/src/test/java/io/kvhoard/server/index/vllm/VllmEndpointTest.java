package io.kvhoard.server.index.vllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class VllmEndpointTest {
  @Test
  void parseList_podsWithAndWithoutReplayAndModel_areRead() {
    List<VllmEndpoint> l =
        VllmEndpoint.parseList(
            " vllm-0=tcp://10.0.0.5:5557|tcp://10.0.0.5:5558 ,"
                + "vllm-1@Qwen/Qwen3-0.6B=tcp://vllm-1.vllm:5557,v2=ipc:///tmp/kv");

    assertEquals(3, l.size());
    assertEquals(
        new VllmEndpoint("vllm-0", "", "tcp://10.0.0.5:5557", "tcp://10.0.0.5:5558"), l.get(0));
    assertEquals("Qwen/Qwen3-0.6B", l.get(1).model());
    assertNull(l.get(1).replay());
    assertEquals("ipc:///tmp/kv", l.get(2).events());
    assertEquals(
        l, VllmEndpoint.parseList(String.join(",", l.stream().map(Object::toString).toList())));
  }

  @Test
  void parseList_emptyOrNone_isNoPods() {
    assertTrue(VllmEndpoint.parseList("").isEmpty());
    assertTrue(VllmEndpoint.parseList(" none ").isEmpty());
  }

  @Test
  void parseList_badEntries_sayWhatIsWrong() {
    String[][] cases = {
      {"vllm-0", "POD[@MODEL]=ENDPOINT"},
      {"=tcp://h:1", "POD[@MODEL]=ENDPOINT"},
      {"p=", "POD[@MODEL]=ENDPOINT"},
      {"p=http://h:1", "not a ZeroMQ endpoint"},
      {"p=tcp://h", "not a ZeroMQ endpoint"},
      {"p=tcp://h:70000", "port must be 1 to 65535"},
      {"p=tcp://h:1|tcp://h:2|tcp://h:3", "at most two endpoints"},
      {"p=tcp://h:1|", "not a ZeroMQ endpoint"},
      {"p@=tcp://h:1", "empty model"},
      {"p q=tcp://h:1", "pod name"},
      {"p=tcp://h:1,p=tcp://h:2", "given twice"},
    };
    for (String[] c : cases) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> VllmEndpoint.parseList(c[0]), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
  }
}
