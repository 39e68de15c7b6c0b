package io.kvhoard.server.store.disk;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Whether a directory's filesystem accepts direct (O_DIRECT) I/O. */
final class DirectIo {
  static final String PROBE_FILE = ".kvhoard-direct-io-probe";

  private DirectIo() {}

  /**
   * Opens a file in {@code directory} with {@code O_DIRECT} and writes one aligned block: some
   * filesystems (older tmpfs, some network and FUSE filesystems) refuse the flag, others refuse the
   * write. False on any failure; the file is removed either way.
   */
  static boolean supported(Path directory) {
    Path probe = directory.resolve(PROBE_FILE);
    try {
      int block =
          (int) Math.max(512, Math.min(1 << 16, Files.getFileStore(directory).getBlockSize()));
      try (FileChannel ch =
          FileChannel.open(
              probe,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.READ,
              ExtendedOpenOption.DIRECT)) {
        ByteBuffer aligned = ByteBuffer.allocateDirect(2 * block).alignedSlice(block);
        aligned.limit(block);
        return ch.write(aligned, 0) == block;
      }
    } catch (IOException | RuntimeException e) {
      return false;
    } finally {
      try {
        Files.deleteIfExists(probe);
      } catch (IOException e) {
        // A leftover probe file is harmless; the next probe overwrites it.
      }
    }
  }
}
