package dev.perdura.client;

/**
 * The server refused or could not answer a call. {@link #status()} is the gRPC status name
 * ({@code INVALID_ARGUMENT}, {@code NOT_FOUND}, {@code UNAVAILABLE}, ...); the message is the server's.
 */
public class ServiceException extends RuntimeException {
  private final String status;

  public ServiceException(String status, String message, Throwable cause) {
    super(status + ": " + message, cause);
    this.status = status;
  }

  public String status() {
    return status;
  }
}
