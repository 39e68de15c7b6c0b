package io.kvhoard.server.index;

/**
 * How much of one prompt one pod holds: its leading blocks (a block counts only if the pod holds
 * every block before it), split by the best tier the pod holds each on.
 *
 * @param pod the pod name
 * @param blocks leading blocks held, {@code gpu + host + disk}
 * @param gpu of them, held in GPU memory
 * @param host of them, held in host RAM (and not on the GPU)
 * @param disk of them, held only on disk
 */
public record PodMatch(String pod, int blocks, int gpu, int host, int disk) {
  public PodMatch {
    if (blocks != gpu + host + disk || gpu < 0 || host < 0 || disk < 0) {
      throw new IllegalArgumentException(
          "blocks must be gpu + host + disk, each at least 0: "
              + blocks
              + " != "
              + gpu
              + " + "
              + host
              + " + "
              + disk);
    }
  }
}
