package io.kvhoard.protocol.frame;

/**
 * The per-opcode rules for block descriptors, shared by the decoder (which rejects what breaks
 * them) and the builder (which refuses to build it), so the two cannot drift apart. The table they
 * implement is in {@code protocol/PROTOCOL.md}, section "Block descriptors by opcode".
 *
 * <p>Stateless and thread-safe.
 */
final class FrameRules {
  private FrameRules() {}

  /** Whether descriptors' lengths describe the payload section: PUT requests and GET responses. */
  static boolean carriesBlockPayloads(Opcode opcode, boolean response) {
    return response ? opcode == Opcode.GET : opcode == Opcode.PUT;
  }

  /**
   * Why a descriptor with these field values may not appear in a block frame of {@code opcode}, or
   * {@code null} if it may. {@code length} is the raw u32 (negative when over 2^31 - 1); the
   * unsigned fields are passed as read.
   */
  static String descriptorProblem(
      Opcode opcode,
      boolean response,
      int length,
      int crc,
      int statusCode,
      int tierCode,
      int flags,
      int reserved) {
    if (flags != 0) {
      return "descriptor flags must be 0, got " + flags;
    }
    if (reserved != 0) {
      return "descriptor reserved bytes 44..47 must be 0";
    }
    if (length < 0) {
      return "length " + Integer.toUnsignedString(length) + " is over 2^31 - 1";
    }
    if (!response) {
      if (statusCode != 0) {
        return "block status must be 0 in a request, got " + statusCode;
      }
      if (tierCode != 0) {
        return "tier must be 0 in a request, got " + tierCode;
      }
      switch (opcode) {
        case GET: // length is the slot capacity, 0 for no limit
          return crc == 0 ? null : "crc must be 0 in a GET request";
        case PUT: // length and crc describe the payload
          return null;
        default:
          return length == 0 && crc == 0
              ? null
              : "length and crc must be 0 in a " + opcode + " request";
      }
    }
    BlockStatus status = BlockStatus.byCode(statusCode);
    if (status == null) {
      return "unknown block status " + statusCode;
    }
    if (BlockTier.byCode(tierCode) == null) {
      return "unknown tier " + tierCode;
    }
    switch (opcode) {
      case GET:
        return status == BlockStatus.OK || (length == 0 && crc == 0)
            ? null
            : "a GET response block with status " + status + " must have length 0 and crc 0";
      case CONTAINS_PREFIX: // length is the stored size of a block that is held
        if (crc != 0) {
          return "crc must be 0 in a CONTAINS_PREFIX response";
        }
        return status == BlockStatus.OK || length == 0
            ? null
            : "a CONTAINS_PREFIX response block with status " + status + " must have length 0";
      default:
        return length == 0 && crc == 0
            ? null
            : "length and crc must be 0 in a " + opcode + " response";
    }
  }
}
