package dev.perdura.server.store;

/**
 * An execution as stored: its mutable state (opaque bytes owned by the history layer) plus its
 * visibility columns.
 *
 * @param version incremented on every write; writes name the version they read (optimistic check)
 */
public record ExecutionRow(ExecutionKey key, long version, byte[] state, VisibilityRow visibility) {}
