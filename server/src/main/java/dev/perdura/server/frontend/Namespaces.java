package dev.perdura.server.frontend;

import dev.perdura.server.common.Errors;
import dev.perdura.server.store.NamespaceRecord;
import dev.perdura.server.store.Store;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** The registered namespaces, read through a cache (every request names one). */
public final class Namespaces {
  static final long DEFAULT_RETENTION_SECONDS = 3 * 24 * 3600;

  private final Store store;
  private final Clock clock;
  private final Map<String, NamespaceRecord> cache = new ConcurrentHashMap<>();

  public Namespaces(Store store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  /** Registers the namespace if it does not exist yet (used at start for configured ones). */
  public void ensure(String name) {
    if (store.findNamespace(name).isEmpty()) {
      register(name, "", "", DEFAULT_RETENTION_SECONDS, Map.of());
    }
  }

  /** Registers a namespace; ALREADY_EXISTS when the name is taken. */
  public NamespaceRecord register(
      String name, String description, String ownerEmail, long retentionSeconds, Map<String, String> data) {
    NamespaceRecord record =
        new NamespaceRecord(
            name,
            UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString(),
            description,
            ownerEmail,
            retentionSeconds,
            data,
            clock.millis());
    if (!store.insertNamespace(record)) {
      throw Errors.namespaceAlreadyExists(name);
    }
    cache.put(name, record);
    return record;
  }

  /** Whether {@link #require} would answer for this name without reading the store. */
  public boolean isCached(String name) {
    return name != null && cache.containsKey(name);
  }

  /** The namespace; INVALID_ARGUMENT when the name is empty, NOT_FOUND when unknown. */
  public NamespaceRecord require(String name) {
    if (name == null || name.isEmpty()) {
      throw Errors.invalidArgument("namespace is not set");
    }
    NamespaceRecord cached = cache.get(name);
    if (cached != null) {
      return cached;
    }
    NamespaceRecord found = store.findNamespace(name).orElseThrow(() -> Errors.namespaceNotFound(name));
    cache.put(name, found);
    return found;
  }

  public List<NamespaceRecord> list() {
    return store.listNamespaces();
  }
}
