package dev.perdura.server.store;

import java.util.Map;

/**
 * A registered namespace.
 *
 * @param id stable UUID string, reported by DescribeNamespace
 * @param retentionSeconds how long closed workflows are kept before the retention sweeper deletes them
 */
public record NamespaceRecord(
    String name,
    String id,
    String description,
    String ownerEmail,
    long retentionSeconds,
    Map<String, String> data,
    long createdAtMillis) {
  public NamespaceRecord {
    data = Map.copyOf(data);
  }
}
