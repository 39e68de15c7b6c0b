package io.kvhoard.server.store.host;

import io.kvhoard.server.store.StoreException;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Off-heap memory for the host tier: slabs of up to 1 GiB carved into fixed-size pages, handed out
 * and taken back by page number.
 *
 * <p>Design. Fixed pages (the approach of Linux's page allocator, memcached's slab classes with a
 * single class, and vLLM's own paged KV memory) let a block of any size take {@code ceil(size /
 * page)} pages from anywhere, so there is no external fragmentation and no compaction; the cost is
 * at most one partly used page per block. Slabs are memory-mapped shared-memory files (under {@code
 * /dev/shm}, unlinked at once) when that directory is usable: they count neither against the Java
 * heap nor against {@code -XX:MaxDirectMemorySize}, are touched lazily (resident memory grows with
 * use), and can be registered for DMA by a GPU copy engine. Otherwise slabs are direct buffers,
 * which {@code -XX:MaxDirectMemorySize} bounds.
 *
 * <p>Thread-safe: the free list is guarded by a lock; page contents are the callers' business.
 */
final class HostMemory implements AutoCloseable {
  static final int MAX_SLAB_BYTES = 1 << 30;

  /**
   * {@code sun.misc.Unsafe.invokeCleaner}, which unmaps a mapped buffer or frees a direct one now
   * instead of at some later garbage collection; null where unavailable (the GC frees them then).
   */
  private static final MethodHandle INVOKE_CLEANER = findInvokeCleaner();

  private final ByteBuffer[] slabs;
  private final int pageSize;
  private final int pageShift;
  private final int pagesPerSlab;
  private final int pageCount;
  private final boolean mapped;

  private final ReentrantLock lock = new ReentrantLock();
  private final int[] free; // guarded by lock: a stack of free page numbers
  private int freeTop; // guarded by lock
  private boolean closing; // guarded by lock
  private boolean released; // guarded by lock

  private HostMemory(
      ByteBuffer[] slabs, int pageSize, int pagesPerSlab, int pageCount, boolean mapped) {
    this.slabs = slabs;
    this.pageSize = pageSize;
    this.pageShift = Integer.numberOfTrailingZeros(pageSize);
    this.pagesPerSlab = pagesPerSlab;
    this.pageCount = pageCount;
    this.mapped = mapped;
    this.free = new int[pageCount];
    for (int i = 0; i < pageCount; i++) {
      free[i] = pageCount - 1 - i; // low page numbers first
    }
    this.freeTop = pageCount;
  }

  /**
   * Reserves {@code capacityBytes} (rounded down to whole pages) of off-heap memory.
   *
   * @param shmDirectory a tmpfs directory for mapped slabs, or null for direct buffers
   */
  static HostMemory allocate(long capacityBytes, int pageSize, Path shmDirectory)
      throws StoreException {
    return allocate(capacityBytes, pageSize, shmDirectory, false);
  }

  /**
   * As {@link #allocate(long, int, Path)}, and with {@code pretouch} writes every 4 KiB of it once
   * now: the operating system backs the memory at start (no page faults on the first puts), and a
   * tmpfs too small for it fails here, with a message, instead of faulting mid-run.
   */
  static HostMemory allocate(long capacityBytes, int pageSize, Path shmDirectory, boolean pretouch)
      throws StoreException {
    if (pageSize < 4096 || Integer.bitCount(pageSize) != 1 || pageSize > MAX_SLAB_BYTES) {
      throw new IllegalArgumentException(
          "page size must be a power of two in [4 KiB, 1 GiB], got " + pageSize);
    }
    long pages = capacityBytes / pageSize;
    if (pages < 1) {
      throw new IllegalArgumentException(
          "host capacity " + capacityBytes + " is smaller than one page of " + pageSize + " bytes");
    }
    if (pages > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("host capacity too large for page size " + pageSize);
    }
    int pagesPerSlab = MAX_SLAB_BYTES / pageSize;
    int slabCount = (int) ((pages + pagesPerSlab - 1) / pagesPerSlab);
    ByteBuffer[] slabs = new ByteBuffer[slabCount];
    boolean mapped = shmDirectory != null;
    try {
      for (int s = 0; s < slabCount; s++) {
        long slabPages = Math.min(pagesPerSlab, pages - (long) s * pagesPerSlab);
        int bytes = (int) (slabPages * pageSize);
        slabs[s] = mapped ? mapShared(shmDirectory, bytes) : ByteBuffer.allocateDirect(bytes);
        if (pretouch) {
          for (int i = 0; i < bytes; i += 4096) {
            slabs[s].put(i, (byte) 0);
          }
        }
      }
    } catch (IOException | OutOfMemoryError | InternalError e) {
      // InternalError: a write to a mapped page the tmpfs cannot back (SIGBUS), while pre-touching
      for (ByteBuffer b : slabs) {
        if (b != null) {
          freeNow(b);
        }
      }
      throw new StoreException(
          "could not reserve "
              + capacityBytes
              + " bytes of host memory ("
              + (mapped
                  ? "mapping files in " + shmDirectory + ": is the tmpfs large enough?"
                  : "direct buffers: raise -XX:MaxDirectMemorySize")
              + "): "
              + e.getMessage(),
          e);
    }
    return new HostMemory(slabs, pageSize, pagesPerSlab, (int) pages, mapped);
  }

  private static ByteBuffer mapShared(Path dir, int bytes) throws IOException {
    Path file = Files.createTempFile(dir, "kvhoard-host-", ".slab");
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
    } finally {
      Files.deleteIfExists(file); // the mapping keeps the memory; nothing is left to clean up
    }
  }

  int pageSize() {
    return pageSize;
  }

  int pageCount() {
    return pageCount;
  }

  boolean mapped() {
    return mapped;
  }

  long capacityBytes() {
    return (long) pageCount * pageSize;
  }

  int freePages() {
    lock.lock();
    try {
      return freeTop;
    } finally {
      lock.unlock();
    }
  }

  /** Pages needed for {@code length} bytes. */
  long pagesFor(long length) {
    return (length + pageSize - 1) >>> pageShift;
  }

  /** Takes {@code n} pages, or returns null if fewer are free. */
  int[] allocate(int n) {
    lock.lock();
    try {
      if (closing || n > freeTop) {
        return null;
      }
      int[] pages = new int[n];
      for (int i = 0; i < n; i++) {
        pages[i] = free[--freeTop];
      }
      return pages;
    } finally {
      lock.unlock();
    }
  }

  /** Gives pages back; unmaps everything if the memory is closing and this was the last use. */
  void free(int[] pages) {
    boolean release;
    lock.lock();
    try {
      for (int p : pages) {
        free[freeTop++] = p;
      }
      release = closing && freeTop == pageCount && !released;
      released |= release;
    } finally {
      lock.unlock();
    }
    if (release) {
      unmap();
    }
  }

  /**
   * A view of page {@code page}'s first {@code length} bytes, position 0. Valid until the page is
   * freed.
   */
  ByteBuffer page(int page, int length) {
    ByteBuffer slab = slabs[page / pagesPerSlab];
    return slab.slice((page % pagesPerSlab) << pageShift, length);
  }

  /**
   * Closes the memory: no more allocations; the slabs are unmapped now if no page is in use, else
   * when the last one is freed (a lease outliving the tier keeps its memory).
   */
  @Override
  public void close() {
    boolean release;
    lock.lock();
    try {
      closing = true;
      release = freeTop == pageCount && !released;
      released |= release;
    } finally {
      lock.unlock();
    }
    if (release) {
      unmap();
    }
  }

  private void unmap() {
    for (ByteBuffer b : slabs) {
      freeNow(b);
    }
  }

  private static void freeNow(ByteBuffer buffer) {
    if (INVOKE_CLEANER == null) {
      return;
    }
    try {
      INVOKE_CLEANER.invokeExact(buffer);
    } catch (Throwable e) {
      // Left to the garbage collector; nothing else holds the buffer.
    }
  }

  private static MethodHandle findInvokeCleaner() {
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field f = unsafeClass.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      return MethodHandles.lookup()
          .findVirtual(
              unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
          .bindTo(f.get(null));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
