package dev.perdura.client;

/** A run with this workflow id is already open (or the id reuse policy forbids a new one). */
public final class WorkflowAlreadyStartedException extends ServiceException {
  public WorkflowAlreadyStartedException(String message, Throwable cause) {
    super("ALREADY_EXISTS", message, cause);
  }
}
