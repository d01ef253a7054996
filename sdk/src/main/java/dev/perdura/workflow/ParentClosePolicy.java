package dev.perdura.workflow;

/** What happens to a running child workflow when its parent closes. */
public enum ParentClosePolicy {
  /** The server terminates the child (the default). */
  TERMINATE,
  /** The server requests the child's cancellation; the child decides how to end. */
  REQUEST_CANCEL,
  /** The child runs on by itself. */
  ABANDON
}
