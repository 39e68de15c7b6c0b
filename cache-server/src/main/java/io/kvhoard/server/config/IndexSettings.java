package io.kvhoard.server.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The prefix index's settings ({@code --index-*}).
 *
 * @param capacity (block, pod) entries held
 * @param blockTokens tokens per canonical block
 * @param podTtl how long a silent pod stays in scores
 * @param gpuWeight weight of a block held on the GPU
 * @param hostWeight weight of a block held in host RAM
 * @param diskWeight weight of a block held on disk
 * @param loadUnitSeconds seconds of queue one unit of reported load stands for
 */
public record IndexSettings(
    long capacity,
    int blockTokens,
    Duration podTtl,
    double gpuWeight,
    double hostWeight,
    double diskWeight,
    double loadUnitSeconds) {
  public IndexSettings {
    Objects.requireNonNull(podTtl, "podTtl");
  }
}
