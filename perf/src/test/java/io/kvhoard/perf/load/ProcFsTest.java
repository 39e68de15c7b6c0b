package io.kvhoard.perf.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcFsTest {
  @TempDir Path fakeProc;

  @Test
  void cpuTicks_commandNameWithSpacesAndParentheses_countsFieldsAfterIt() {
    String stat =
        "1234 (my (odd) server) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0 1 0 0";
    assertEquals(325, ProcFs.cpuTicks(stat));
    assertEquals(-1, ProcFs.cpuTicks("garbage"));
    assertEquals(-1, ProcFs.cpuTicks("1 (x) S 1 2"));
  }

  @Test
  void cpuSeconds_fakeProc_isTicksOverUserHz() throws IOException {
    Files.createDirectories(fakeProc.resolve("77"));
    Files.writeString(
        fakeProc.resolve("77/stat"), "77 (srv) S 1 77 77 0 -1 0 0 0 0 0 150 50 0 0 20 0 1 0");
    assertEquals(2.0, new ProcFs(fakeProc).cpuSeconds(77).getAsDouble(), 1e-9);
    assertTrue(new ProcFs(fakeProc).cpuSeconds(78).isEmpty());
  }

  @Test
  void compilerCpuSeconds_fakeProc_sumsOnlyTheJitCompilerThreads() throws IOException {
    String rest = " S 1 77 77 0 -1 0 0 0 0 0 %d %d 0 0 20 0 1 0";
    for (String[] t :
        new String[][] {
          {"77", "java", "500", "500"},
          {"78", "C2 CompilerThre", "120", "30"},
          {"79", "C1 CompilerThre", "40", "10"},
          {"80", "kvhoard-io-4-1", "900", "100"},
          {"81", "Compiler idle", "900", "100"}
        }) {
      Path task = fakeProc.resolve("77/task/" + t[0]);
      Files.createDirectories(task);
      Files.writeString(
          task.resolve("stat"),
          t[0]
              + " ("
              + t[1]
              + ")"
              + String.format(
                  java.util.Locale.ROOT, rest, Integer.parseInt(t[2]), Integer.parseInt(t[3])));
    }
    assertEquals(2.0, new ProcFs(fakeProc).compilerCpuSeconds(77).getAsDouble(), 1e-9);
    assertTrue(new ProcFs(fakeProc).compilerCpuSeconds(78).isEmpty(), "no such process");
  }

  @Test
  void compilerCpuSeconds_thisJvm_isKnown() {
    assertTrue(
        ProcFs.system().compilerCpuSeconds(ProcessHandle.current().pid()).isPresent(),
        "a HotSpot JVM runs C1/C2 compiler threads");
  }

  @Test
  void listeningInode_onlyTheListeningRowOfThePort() {
    List<String> table =
        List.of(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid "
                + " timeout inode",
            "   0: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0 "
                + "       0 111 1 0000000000000000 20 4 30 10 -1",
            "   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
                + "       0 222 1 0000000000000000 100 0 0 10 0");
    assertEquals(222, ProcFs.listeningInode(table, 8080));
    assertEquals(-1, ProcFs.listeningInode(table, 8081));
  }

  @Test
  void pidListeningOn_fakeProc_findsTheProcessHoldingTheSocket() throws IOException {
    Files.createDirectories(fakeProc.resolve("net"));
    Files.writeString(
        fakeProc.resolve("net/tcp"),
        "  sl  local_address rem_address   st\n"
            + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4242"
            + " 1\n");
    Files.createDirectories(fakeProc.resolve("12/fd"));
    Files.createDirectories(fakeProc.resolve("34/fd"));
    Files.createSymbolicLink(fakeProc.resolve("12/fd/3"), Path.of("socket:[1]"));
    Files.createSymbolicLink(fakeProc.resolve("34/fd/5"), Path.of("socket:[4242]"));
    assertEquals(OptionalLong.of(34), new ProcFs(fakeProc).pidListeningOn(8080));
    assertEquals(OptionalLong.empty(), new ProcFs(fakeProc).pidListeningOn(8081));
  }

  @Test
  void realProc_thisJvm_hasCpuTimeAndIsFoundByItsListeningPort() throws IOException {
    ProcFs proc = ProcFs.system();
    long self = ProcessHandle.current().pid();
    assertTrue(proc.cpuSeconds(self).getAsDouble() > 0);
    try (ServerSocketChannel listener = ServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
      assertEquals(OptionalLong.of(self), proc.pidListeningOn(port));
    }
  }
}
