package dev.perdura.server.history;

import io.temporal.api.enums.v1.TimeoutType;

/**
 * What a fired timer means, read from its key (see the key builders in {@link Activities},
 * {@link WorkflowTasks}, {@link Commands} and {@link Runs}). Every handler checks the run's state
 * first: a timer whose reason has passed does nothing but remove itself.
 */
final class TimerFiring {
  private TimerFiring() {}

  static void fire(Tx tx, Execution e, String timerKey) {
    String[] parts = timerKey.split(":", 2);
    String kind = parts[0];
    String rest = parts.length > 1 ? parts[1] : "";
    if (!e.state.isRunning()) {
      e.deleteTimer(timerKey);
      return;
    }
    switch (kind) {
      case "timer" -> userTimer(e, rest, timerKey);
      case "wft-timeout" -> {
        long[] ids = ids(rest);
        WorkflowTasks.timeout(e, ids[0], (int) ids[1]);
      }
      case "wft-sticky" -> {
        long[] ids = ids(rest);
        WorkflowTasks.stickyTimeout(e, ids[0], (int) ids[1]);
      }
      case "act-s2s" -> activityTimeout(e, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START, rest, timerKey);
      case "act-stc" -> activityTimeout(e, TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE, rest, timerKey);
      case "act-hb" -> activityTimeout(e, TimeoutType.TIMEOUT_TYPE_HEARTBEAT, rest, timerKey);
      case "act-s2c" -> {
        long id = Long.parseLong(rest);
        ActivityInfo a = e.state.activities.get(id);
        Activities.timeoutFired(
            e, TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, id, a == null ? 0 : a.attempt, timerKey);
      }
      case "act-retry" -> {
        long[] ids = ids(rest);
        Activities.retryTimerFired(e, ids[0], (int) ids[1]);
      }
      case Runs.RUN_TIMEOUT_TIMER -> {
        e.deleteTimer(timerKey);
        if (e.state.runDeadline > 0 && e.state.runDeadline <= e.now) {
          Runs.timeOut(tx, e);
        }
      }
      case Runs.START_BACKOFF_TIMER -> {
        e.deleteTimer(timerKey);
        Runs.scheduleWorkflowTask(e);
      }
      default -> e.deleteTimer(timerKey);
    }
  }

  private static long[] ids(String rest) {
    String[] parts = rest.split(":");
    return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
  }

  private static void activityTimeout(Execution e, TimeoutType type, String rest, String timerKey) {
    long[] ids = ids(rest);
    Activities.timeoutFired(e, type, ids[0], (int) ids[1], timerKey);
  }

  private static void userTimer(Execution e, String timerId, String timerKey) {
    ExecutionState.TimerInfo timer = e.state.timers.get(timerId);
    if (timer == null) {
      e.deleteTimer(timerKey);
      return;
    }
    if (timer.fireTime > e.now) {
      return; // an older entry for a timer id that was reused; the newer entry fires it
    }
    e.state.timers.remove(timerId);
    e.deleteTimer(timerKey);
    e.appendOrBuffer(HistoryService.timerFired(timer));
    Runs.scheduleWorkflowTask(e);
  }
}
