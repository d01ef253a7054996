package dev.perdura.internal.activity;

import io.temporal.api.common.v1.Payloads;
import java.util.List;

/** Where an activity's heartbeats go: the server (through {@link Heartbeater}) or a test's recorder. */
public interface HeartbeatSink {
  /** Accepts heartbeats and drops them: local activities, whose progress no server keeps. */
  HeartbeatSink DROPPED = new HeartbeatSink() {
    @Override
    public void record(List<?> details) {}

    @Override
    public Payloads lastDetails() {
      return null;
    }

    @Override
    public void close() {}
  };

  void record(List<?> details);

  /** The last details recorded, encoded; null when none. */
  Payloads lastDetails();

  void close();
}
