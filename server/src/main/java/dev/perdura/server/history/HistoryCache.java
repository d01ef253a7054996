package dev.perdura.server.history;

import dev.perdura.server.store.EventRow;
import dev.perdura.server.store.ExecutionKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The latest events of recently active runs, serialized as they were written to the store, so that
 * workflow-task polls, activity-task polls and clients waiting for a result are answered without
 * reading the store, and responses carry the events' bytes as they are ({@link HistoryBytes})
 * instead of serializing each event again.
 *
 * <p>Only runs whose every event passed through this process are held: an entry starts when a run
 * is created and grows with each committed change; a run that was evicted, or that this process
 * only loaded from the store, is not held and its readers go to the store. Entries are added after
 * the commit is durable, so whatever a reader finds here is committed, save a workflow task's start
 * that its shard holds back (see {@link HistoryShard}), which the run's next write carries. Bounded by the serialized
 * size of the events held and by a number of events per run: a longer run keeps its latest events
 * (what a sticky workflow task, an activity task and a result need) and drops its oldest, which
 * readers of a whole history then read from the store.
 *
 * <p>Open runs and closed runs have separate bounds. Open runs go least recently used first out;
 * a run that closes moves to a much smaller set, oldest close first out: it is still there for the
 * clients that wait for its result, which ask at once, but its events no longer stay for seconds,
 * long enough to be promoted out of the garbage collector's young generation and die in the old one,
 * where only full collections free them (docs/performance.md, "Garbage that lived for seconds").
 */
final class HistoryCache {
  /** A run's status and last event id as of its latest committed change. */
  record Head(int status, long lastEventId) {}

  private final long maxBytes;
  private final long maxClosedBytes;
  private final int maxEventsPerRun;
  /** Open runs, least recently used first. */
  private final Map<ExecutionKey, Entry> entries = new LinkedHashMap<>(1024, 0.75f, true);
  /** Closed runs, in the order they closed. */
  private final Map<ExecutionKey, Entry> closed = new LinkedHashMap<>();
  /**
   * Workflow id → its current run, for current runs that are held: a client asking for a
   * workflow's outcome without a run id is answered without a store read.
   */
  private final Map<WorkflowRef, String> currentRuns = new HashMap<>();
  private long bytes;
  private long closedBytes;

  private record WorkflowRef(String namespace, String workflowId) {
    static WorkflowRef of(ExecutionKey key) {
      return new WorkflowRef(key.namespace(), key.workflowId());
    }
  }

  private static final class Entry {
    /** Events {@code first..last}, contiguous. */
    final List<EventRow> events = new ArrayList<>();
    long first = 1;
    int status;
    long bytes;

    long last() {
      return first + events.size() - 1;
    }

    /** Index in {@link #events} of event {@code id}, which must be held. */
    int index(long id) {
      return (int) (id - first);
    }
  }

  HistoryCache(long maxBytes, long maxClosedBytes, int maxEventsPerRun) {
    this.maxBytes = maxBytes;
    this.maxClosedBytes = maxClosedBytes;
    this.maxEventsPerRun = maxEventsPerRun;
  }

  /**
   * A committed change of a run: the events it appended (ids contiguous) and the run's status
   * after it. A new run ({@code created}) starts an entry; a change to a run that is not held, or
   * whose events do not follow on from what is held, leaves it unheld.
   */
  synchronized void committed(ExecutionKey key, boolean created, int status, List<EventRow> appended) {
    Entry entry = find(key);
    if (created) {
      if (entry != null) {
        remove(key);
      }
      if (appended.isEmpty() || appended.get(0).eventId() != 1) {
        return;
      }
      entry = new Entry();
      entries.put(key, entry);
    } else if (entry == null) {
      return;
    } else if (!appended.isEmpty() && appended.get(0).eventId() != entry.last() + 1) {
      remove(key);
      return;
    }
    entry.status = status;
    long added = 0;
    for (EventRow event : appended) {
      entry.events.add(event);
      added += event.data().length;
    }
    if (entry.events.size() > maxEventsPerRun) {
      added -= dropOldest(entry, entry.events.size() - maxEventsPerRun / 2);
    }
    entry.bytes += added;
    if (status != Statuses.RUNNING && entries.remove(key) != null) {
      bytes -= entry.bytes - added;
      closed.put(key, entry);
      closedBytes += entry.bytes;
    } else if (closed.containsKey(key)) {
      closedBytes += added;
    } else {
      bytes += added;
    }
    bytes -= evict(entries, bytes, maxBytes);
    closedBytes -= evict(closed, closedBytes, maxClosedBytes);
  }

  /**
   * Drops the oldest {@code count} events of a run that grew past the bound per run (half the bound
   * at a time, so a long run copies its window once per that many events); returns their size.
   */
  private static long dropOldest(Entry entry, int count) {
    List<EventRow> oldest = entry.events.subList(0, count);
    long dropped = 0;
    for (EventRow event : oldest) {
      dropped += event.data().length;
    }
    oldest.clear();
    entry.first += count;
    return dropped;
  }

  /** Drops the first runs of {@code runs} until {@code held} is within {@code max}; returns the bytes dropped. */
  private long evict(Map<ExecutionKey, Entry> runs, long held, long max) {
    long dropped = 0;
    Iterator<Map.Entry<ExecutionKey, Entry>> eldest = runs.entrySet().iterator();
    while (held - dropped > max && eldest.hasNext()) {
      Map.Entry<ExecutionKey, Entry> next = eldest.next();
      dropped += next.getValue().bytes;
      eldest.remove();
      currentRuns.remove(WorkflowRef.of(next.getKey()), next.getKey().runId());
    }
    return dropped;
  }

  private Entry find(ExecutionKey key) {
    Entry entry = entries.get(key);
    return entry != null ? entry : closed.get(key);
  }

  /**
   * A committed change made {@code key} its workflow id's current run. Known from then on while the
   * run is held; when it is not, the workflow id is left to the store.
   */
  synchronized void madeCurrent(ExecutionKey key) {
    if (find(key) != null) {
      currentRuns.put(WorkflowRef.of(key), key.runId());
    } else {
      currentRuns.remove(WorkflowRef.of(key));
    }
  }

  /** The workflow id's current run, when it is held; empty means ask the store. */
  synchronized Optional<String> currentRunId(String namespace, String workflowId) {
    return Optional.ofNullable(currentRuns.get(new WorkflowRef(namespace, workflowId)));
  }

  /** Events {@code from..to} (inclusive ids), when all of them are held. */
  synchronized Optional<List<EventRow>> events(ExecutionKey key, long from, long to) {
    Entry entry = find(key);
    if (entry == null || from < entry.first || to > entry.last() || from > to + 1) {
      return Optional.empty();
    }
    return Optional.of(List.copyOf(entry.events.subList(entry.index(from), entry.index(to) + 1)));
  }

  /**
   * Up to {@code max} events from {@code from}, when the run is held from there on; fewer at its
   * end, none past it.
   */
  synchronized Optional<List<EventRow>> eventsFrom(ExecutionKey key, long from, int max) {
    Entry entry = find(key);
    if (entry == null || from < entry.first) {
      return Optional.empty();
    }
    int start = (int) Math.min(from - entry.first, entry.events.size());
    int end = (int) Math.min((long) start + max, entry.events.size());
    return Optional.of(List.copyOf(entry.events.subList(start, end)));
  }

  synchronized Optional<Head> head(ExecutionKey key) {
    Entry entry = find(key);
    return entry == null ? Optional.empty() : Optional.of(new Head(entry.status, entry.last()));
  }

  /** Drops a run (deleted by retention). */
  synchronized void forget(ExecutionKey key) {
    remove(key);
  }

  /** Drops the runs {@code which} selects (their shard moved to another server, which appends now). */
  synchronized void forgetAll(java.util.function.Predicate<ExecutionKey> which) {
    List<ExecutionKey> held = new ArrayList<>(entries.keySet());
    held.addAll(closed.keySet());
    for (ExecutionKey key : held) {
      if (which.test(key)) {
        remove(key);
      }
    }
  }

  /** Serialized size of the events held, open and closed runs together. */
  synchronized long bytes() {
    return bytes + closedBytes;
  }

  private void remove(ExecutionKey key) {
    Entry removed = entries.remove(key);
    if (removed != null) {
      bytes -= removed.bytes;
    } else if ((removed = closed.remove(key)) != null) {
      closedBytes -= removed.bytes;
    }
    if (removed != null) {
      currentRuns.remove(WorkflowRef.of(key), key.runId());
    }
  }
}
