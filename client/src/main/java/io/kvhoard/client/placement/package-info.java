/** Which server holds a block: rendezvous hashing of block keys over the live servers. */
package io.kvhoard.client.placement;
