package io.kvhoard.client;

import io.kvhoard.client.discovery.ServerAddress;
import io.kvhoard.protocol.frame.BlockTier;
import java.util.Objects;

/**
 * Where one cached block is: its server and the tier the server holds it on.
 *
 * @param server the server that holds it
 * @param tier where on that server (GPU, host RAM, disk), or UNKNOWN if it did not say
 */
public record BlockLocation(ServerAddress server, BlockTier tier) {
  /** Validates the fields. */
  public BlockLocation {
    Objects.requireNonNull(server, "server");
    Objects.requireNonNull(tier, "tier");
  }
}
