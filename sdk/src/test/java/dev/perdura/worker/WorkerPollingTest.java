package dev.perdura.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.concurrent.CopyOnWriteArrayList;
import dev.perdura.activity.ActivityMethod;
import dev.perdura.client.ClientOptions;
import dev.perdura.client.PerduraClient;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A worker whose server is down backs off between polls instead of spinning. */
class WorkerPollingTest {

  public static class Nothing {
    @ActivityMethod
    public String nothing() {
      return "";
    }
  }

  @Test
  void pollingANonexistentServerBacksOffExponentially() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nobody listens there
    }
    // The poller logs while the test reads: a thread-safe list.
    List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent event) {
        events.add(event);
      }
    };
    appender.start();
    Logger logger = (Logger) LoggerFactory.getLogger(Worker.class);
    logger.addAppender(appender);
    try (PerduraClient client = PerduraClient.connect(ClientOptions.target("127.0.0.1:" + port))) {
      Worker worker = Worker.create(client, "unreachable", WorkerOptions.DEFAULTS.withActivityPollers(1));
      worker.registerActivities(new Nothing()).start();
      await().atMost(Duration.ofSeconds(60)).until(() -> retryDelays(events).size() >= 4);
      worker.shutdown();
      assertThat(worker.awaitTermination(Duration.ofSeconds(30))).isTrue();
    } finally {
      logger.detachAppender(appender);
    }
    List<Long> delays = retryDelays(events);
    assertThat(delays.subList(0, 4)).containsExactly(100L, 200L, 400L, 800L);
  }

  private static List<Long> retryDelays(List<ILoggingEvent> events) {
    Pattern retry = Pattern.compile("retrying in (\\d+) ms");
    return events.stream()
        .map(e -> retry.matcher(e.getFormattedMessage()))
        .filter(Matcher::find)
        .map(m -> Long.parseLong(m.group(1)))
        .toList();
  }
}
