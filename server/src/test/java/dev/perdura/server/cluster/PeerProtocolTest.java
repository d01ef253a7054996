package dev.perdura.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskKind;
import dev.perdura.server.store.TaskRow;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PeerProtocolTest {
  @Test
  void aTaskAndItsCompanionsReadBackAsWritten() {
    TaskRow task = new TaskRow(new ExecutionKey("ns-ü", "wf \u2603", "run-1"), TaskKind.ACTIVITY, "queue/é",
        -42, 7, 3, "tenant-a", 2.5f, 1_700_000_000_123L);
    byte[] bytes = new PeerProtocol.Writer().task(task).string("worker@host").optionalString(Optional.empty())
        .optionalString(Optional.of("run-2")).flag(true).bytes(new byte[] {1, 2, 3}).toBytes();

    PeerProtocol.Reader in = new PeerProtocol.Reader(bytes);
    assertThat(in.task()).isEqualTo(task);
    assertThat(in.string()).isEqualTo("worker@host");
    assertThat(in.optionalString()).isEmpty();
    assertThat(in.optionalString()).contains("run-2");
    assertThat(in.flag()).isTrue();
    assertThat(in.bytes()).containsExactly(1, 2, 3);
  }

  @Test
  void aTruncatedMessageIsRefused() {
    byte[] bytes = new PeerProtocol.Writer().string("a string").toBytes();
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 3);
    assertThatThrownBy(() -> new PeerProtocol.Reader(truncated).string())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("malformed");
  }
}
