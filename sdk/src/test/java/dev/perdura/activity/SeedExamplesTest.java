package dev.perdura.activity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.perdura.metrics.MetricMeter;
import dev.perdura.metrics.MicrometerMetricMeter;
import dev.perdura.testsupport.PerduraTestServer;
import dev.perdura.testsupport.Scenario;
import dev.perdura.worker.WorkerOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The seed's metrics activity and its comprehensive robust_data_processor, ported and checked. */
class SeedExamplesTest {
  @RegisterExtension static final PerduraTestServer perdura = new PerduraTestServer();

  public static class Examples {
    @ActivityMethod
    public String metricsActivity(int dataSize) {
      MetricMeter meter = Activity.metricMeter();
      MetricMeter.Counter processed = meter.counter("activity_items_processed", "Number of items processed by activity");
      MetricMeter.Histogram duration = meter.histogram("activity_processing_duration", "Time spent processing items");
      long start = System.nanoTime();
      for (int i = 0; i < dataSize; i++) {
        processed.add(1);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      duration.record(seconds);
      return "Processed " + dataSize + " items";
    }

    @ActivityMethod(name = "robust_data_processor")
    public Map<String, Object> robustActivity(List<Map<String, Object>> data, int batchSize) {
      ActivityInfo info = Activity.info();
      MetricMeter meter = Activity.metricMeter();
      MetricMeter.Counter itemsProcessed = meter.counter("items_processed", "Items processed");
      MetricMeter.Histogram processingDuration = meter.histogram("processing_duration", "Processing time");
      Activity.logger().info("Starting robust processing of {} items", data.size());
      List<Object> results = new ArrayList<>();
      long start = System.nanoTime();
      for (int i = 0; i < data.size(); i++) {
        if (Activity.isCancelled() || Activity.isWorkerShutdown()) {
          Activity.logger().warn("stopping early, saving progress");
          break;
        }
        Map<String, Object> item = data.get(i);
        try {
          if (Boolean.TRUE.equals(item.get("broken"))) {
            throw new IllegalArgumentException("item " + i + " is broken");
          }
          results.add(item.get("value"));
          itemsProcessed.add(1);
        } catch (IllegalArgumentException e) {
          Activity.logger().error("Failed to process item {}: {}", i, e.getMessage());
          continue;
        }
        if ((i + 1) % batchSize == 0) {
          Activity.heartbeat(Map.of("processed", results.size(), "total", data.size()));
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      processingDuration.record(seconds);
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("total_items", data.size());
      result.put("processed_items", results.size());
      result.put("success_rate", data.isEmpty() ? 0.0 : (double) results.size() / data.size());
      result.put("activity_info", Map.of("activity_id", info.activityId(), "attempt", info.attempt(),
          "workflow_id", info.workflowId().orElse("")));
      return result;
    }
  }

  @Test
  void metricsRecordedByAnActivityCarryItsTags() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Scenario scenario = Scenario.on(perdura).activities(
        WorkerOptions.DEFAULTS.withMetricMeter(MicrometerMetricMeter.of(registry)), new Examples());
    assertThat(scenario.run(scenario.plan("metricsActivity", 25))).isEqualTo("Processed 25 items");
    var counter = registry.get("activity_items_processed")
        .tag("activity_type", "metricsActivity").tag("task_queue", scenario.activityQueue())
        .tag("namespace", "default").counter();
    assertThat(counter.count()).isEqualTo(25.0);
    assertThat(registry.get("activity_processing_duration").summary().count()).isEqualTo(1);
  }

  @Test
  void theRobustDataProcessorSkipsBadItemsAndReportsItsProgress() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Scenario scenario = Scenario.on(perdura).activities(
        WorkerOptions.DEFAULTS.withMetricMeter(MicrometerMetricMeter.of(registry)), new Examples());
    List<Map<String, Object>> data = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      data.add(i % 5 == 4 ? Map.of("broken", true) : Map.of("value", i));
    }
    var execution = scenario.start(scenario.plan("robust_data_processor", data, 10).withHeartbeat(10_000));
    String result = scenario.result(execution);
    assertThat(result).contains("\"total_items\":20", "\"processed_items\":16", "\"success_rate\":0.8",
        "\"workflow_id\":\"" + execution.getWorkflowId() + "\"");
    assertThat(registry.get("items_processed").counter().count()).isEqualTo(16.0);
  }
}
