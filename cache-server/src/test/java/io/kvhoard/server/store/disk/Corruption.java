package io.kvhoard.server.store.disk;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Test helper: damages a disk tier's files the way a failing medium would. */
public final class Corruption {
  private Corruption() {}

  /** Flips {@code perFile} random bits in each file. */
  public static void flipBits(List<Path> files, SplittableRandom r, int perFile)
      throws IOException {
    for (Path p : files) {
      try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
        for (int i = 0; i < perFile; i++) {
          long at = r.nextLong(f.length());
          f.seek(at);
          int b = f.read();
          f.seek(at);
          f.write(b ^ (1 << r.nextInt(8)));
        }
      }
    }
  }

  /**
   * Flips {@code perFile} bits in each blob file under a disk tier's directory.
   *
   * @return how many blob files were damaged
   */
  public static int flipBitsInBlobFiles(Path diskDirectory, int perFile, long seed)
      throws IOException {
    List<Path> blobs = new ArrayList<>();
    try (Stream<Path> all = Files.walk(diskDirectory)) {
      all.filter(p -> p.toString().endsWith(".blob")).forEach(blobs::add);
    }
    flipBits(blobs, new SplittableRandom(seed), perFile);
    return blobs.size();
  }
}
