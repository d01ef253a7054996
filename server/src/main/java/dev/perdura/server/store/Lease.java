package dev.perdura.server.store;

/**
 * A lease as held in a store shared by several servers: its name, its holder's id and address,
 * and the version that fences the holder's commits ({@link Store#commit(java.util.List, Lease)}).
 * Every taking of a lease raises its version.
 */
public record Lease(String name, String owner, String address, long version) {}
