package io.kvhoard.server.transport.data;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sits before the frame decoder and notes when the first byte of a not yet complete frame arrived;
 * the handler after the decoder clears the mark on every decoded frame. The connection's handler
 * closes connections whose mark grows older than the request timeout: a client that dribbles a
 * frame (slowloris) cannot hold a connection and its buffer forever. Event-loop confined.
 */
final class FrameProgress extends ChannelInboundHandlerAdapter {
  private long partialSince; // System.nanoTime() of the first byte after the last frame; 0 if none

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (partialSince == 0) {
      partialSince = System.nanoTime();
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.fireChannelReadComplete();
  }

  /** Called for each decoded frame. */
  void frameDone() {
    partialSince = 0;
  }

  /** When the bytes of an incomplete frame started arriving, or 0. */
  long partialFrameSince() {
    return partialSince;
  }
}
