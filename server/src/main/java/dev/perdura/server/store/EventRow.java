package dev.perdura.server.store;

/** One history event: its id and the serialized {@code HistoryEvent} proto. */
public record EventRow(long eventId, byte[] data) {}
