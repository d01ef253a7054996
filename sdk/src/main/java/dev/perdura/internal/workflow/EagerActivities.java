package dev.perdura.internal.workflow;

/**
 * This worker's activity slots, offered to the activities its own workflow tasks schedule: a
 * reserved slot lets the completion ask the server to start the activity at once and return it in
 * the response (eager execution), which saves the activity a trip through its task queue. The
 * tasks come back from {@link WorkflowTaskHandler#handle}, each holding its reserved slot.
 */
public interface EagerActivities {
  /** Takes a slot for an activity of this type, when this worker runs it and has a slot free. */
  boolean tryReserve(String activityType);

  /** Gives back reserved slots that got no task. */
  void release(int slots);

  /** For workers without activities: reserves nothing. */
  EagerActivities NONE = new EagerActivities() {
    @Override
    public boolean tryReserve(String activityType) {
      return false;
    }

    @Override
    public void release(int slots) {}
  };
}
