package dev.perdura.server.store;

import java.util.List;

/**
 * A list filter rendered to portable SQL over the {@code executions} table's visibility columns
 * (see {@code db/sqlite/V1__init.sql}): {@code where} uses {@code ?} placeholders bound to {@code params}
 * in order (String, Long, Integer); {@code orderBy} is a complete ORDER BY list without the
 * keywords. Times are epoch milliseconds.
 */
public record VisibilityFilter(String where, List<Object> params, String orderBy) {
  public static final String DEFAULT_ORDER =
      "CASE WHEN close_time = 0 THEN 0 ELSE 1 END, close_time DESC, start_time DESC, run_id";

  public static VisibilityFilter all() {
    return new VisibilityFilter("1=1", List.of(), DEFAULT_ORDER);
  }

  public VisibilityFilter {
    params = List.copyOf(params);
  }
}
