package dev.perdura.internal.workflow;

import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;

/**
 * This worker's activity slots, offered to the activities its own workflow tasks schedule: a
 * reserved slot lets the completion ask the server to start the activity at once and return it in
 * the response (eager execution), which saves the activity a trip through its task queue.
 */
public interface EagerActivities {
  /** Takes a slot for an activity of this type, when this worker runs it and has a slot free. */
  boolean tryReserve(String activityType);

  /** Runs a task the server started for one of the reserved slots; the slot goes with it. */
  void run(PollActivityTaskQueueResponse task);

  /** Gives back reserved slots that got no task. */
  void release(int slots);

  /** For workers without activities: reserves nothing. */
  EagerActivities NONE = new EagerActivities() {
    @Override
    public boolean tryReserve(String activityType) {
      return false;
    }

    @Override
    public void run(PollActivityTaskQueueResponse task) {
      throw new IllegalStateException("no slot was reserved for activity " + task.getActivityId());
    }

    @Override
    public void release(int slots) {}
  };
}
