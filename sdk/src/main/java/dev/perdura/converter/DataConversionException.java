package dev.perdura.converter;

/** A value could not be encoded into a payload, or a payload could not be decoded into the asked type. */
public class DataConversionException extends RuntimeException {
  public DataConversionException(String message, Throwable cause) {
    super(message, cause);
  }

  public DataConversionException(String message) {
    super(message);
  }
}
