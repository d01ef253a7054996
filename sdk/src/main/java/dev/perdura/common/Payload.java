package dev.perdura.common;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One encoded value as it travels between client, server and workers: metadata (at least
 * {@code encoding}, such as {@code json/plain}) and the encoded bytes. The format is Temporal's, so
 * payloads written by other SDKs decode here and the other way round.
 *
 * <p>Immutable: the arrays are copied in and out.
 */
public final class Payload {
  /** The metadata key naming the encoding. */
  public static final String ENCODING = "encoding";

  private final Map<String, byte[]> metadata;
  private final byte[] data;

  public Payload(Map<String, byte[]> metadata, byte[] data) {
    LinkedHashMap<String, byte[]> copy = new LinkedHashMap<>();
    metadata.forEach((k, v) -> copy.put(k, v.clone()));
    this.metadata = Collections.unmodifiableMap(copy);
    this.data = data.clone();
  }

  /** A payload with the given encoding and no other metadata. */
  public static Payload of(String encoding, byte[] data) {
    return new Payload(Map.of(ENCODING, encoding.getBytes(StandardCharsets.UTF_8)), data);
  }

  /** Metadata values are returned as copies. */
  public Map<String, byte[]> metadata() {
    LinkedHashMap<String, byte[]> copy = new LinkedHashMap<>();
    metadata.forEach((k, v) -> copy.put(k, v.clone()));
    return copy;
  }

  /** A metadata value read as UTF-8, when present. */
  public Optional<String> metadataString(String key) {
    byte[] value = metadata.get(key);
    return value == null ? Optional.empty() : Optional.of(new String(value, StandardCharsets.UTF_8));
  }

  /** The {@code encoding} metadata, or an empty string when absent. */
  public String encoding() {
    return metadataString(ENCODING).orElse("");
  }

  /** The same data and metadata with another {@code encoding}. */
  public Payload withEncoding(String encoding) {
    LinkedHashMap<String, byte[]> copy = new LinkedHashMap<>(metadata);
    copy.put(ENCODING, encoding.getBytes(StandardCharsets.UTF_8));
    return new Payload(copy, data);
  }

  public byte[] data() {
    return data.clone();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Payload other) || !Arrays.equals(data, other.data)
        || !metadata.keySet().equals(other.metadata.keySet())) {
      return false;
    }
    return metadata.entrySet().stream().allMatch(e -> Arrays.equals(e.getValue(), other.metadata.get(e.getKey())));
  }

  @Override
  public int hashCode() {
    int hash = Arrays.hashCode(data);
    for (Map.Entry<String, byte[]> e : metadata.entrySet()) {
      hash += e.getKey().hashCode() ^ Arrays.hashCode(e.getValue());
    }
    return hash;
  }

  @Override
  public String toString() {
    return "Payload[" + encoding() + ", " + data.length + " bytes]";
  }
}
