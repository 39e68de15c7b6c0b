/**
 * Which cache servers there are: a static list or DNS A/SRV records ({@link
 * io.kvhoard.client.discovery.ServerSource}), re-resolved periodically, with failed servers backed
 * off and tried again ({@link io.kvhoard.client.discovery.Membership}).
 */
package io.kvhoard.client.discovery;
