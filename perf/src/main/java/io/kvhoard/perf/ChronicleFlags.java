package io.kvhoard.perf;

import java.util.List;

/**
 * The JVM flags a JVM that opens the block directory (Chronicle Map) needs on Java 17+: given to
 * the JMH forks and to the cache servers the benchmarks start. The same list is in the parent pom
 * ({@code chronicle.jvmArgs}) and in {@code kvhoard.jar}'s manifest.
 */
public final class ChronicleFlags {
  /** The flags, one argument each. */
  public static final List<String> JVM_ARGS =
      List.of(
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
          "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
          "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
          "-Dchronicle.analytics.disable=true",
          "-Dchronicle.announcer.disable=true");

  private ChronicleFlags() {}
}
