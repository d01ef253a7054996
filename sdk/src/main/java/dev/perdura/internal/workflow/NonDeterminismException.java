package dev.perdura.internal.workflow;

/** The workflow code and its history disagree: the code changed in a way replay cannot follow. */
public final class NonDeterminismException extends RuntimeException {
  public NonDeterminismException(String message) {
    super(message);
  }
}
