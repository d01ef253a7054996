package dev.perdura.server.store;

/**
 * A durable timer of one execution. {@code timerKey} is unique within the execution and says what
 * the timer is for (the history layer owns the format); writing the same key again moves it.
 */
public record TimerRow(ExecutionKey execution, String timerKey, long fireAtMillis) {}
