package dev.perdura.server.visibility;

/** A list filter that cannot be parsed or names something this server does not know; the message says where. */
public final class InvalidListFilterException extends RuntimeException {
  public InvalidListFilterException(String message) {
    super(message);
  }
}
