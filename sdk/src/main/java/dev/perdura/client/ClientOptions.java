package dev.perdura.client;

import dev.perdura.converter.PayloadConverter;
import java.lang.management.ManagementFactory;
import java.util.Objects;

/**
 * Where and as whom a {@link PerduraClient} connects.
 *
 * <pre>{@code
 * ClientOptions options = ClientOptions.target("127.0.0.1:7233").withNamespace("orders");
 * }</pre>
 *
 * @param target gRPC target, {@code host:port}
 * @param namespace namespace of every call (default {@code default})
 * @param identity how this process names itself to the server (default {@code pid@host})
 * @param payloadConverter encodes arguments and results (default {@link PayloadConverter#defaultConverter()})
 */
public record ClientOptions(String target, String namespace, String identity, PayloadConverter payloadConverter) {
  public ClientOptions {
    Objects.requireNonNull(target, "target");
    if (target.isBlank()) {
      throw new IllegalArgumentException("target must not be blank");
    }
    namespace = namespace == null || namespace.isBlank() ? "default" : namespace;
    identity = identity == null || identity.isBlank() ? ManagementFactory.getRuntimeMXBean().getName() : identity;
    payloadConverter = payloadConverter == null ? PayloadConverter.defaultConverter() : payloadConverter;
  }

  /** Defaults for everything but the target. */
  public static ClientOptions target(String target) {
    return new ClientOptions(target, null, null, null);
  }

  public ClientOptions withNamespace(String namespace) {
    return new ClientOptions(target, namespace, identity, payloadConverter);
  }

  public ClientOptions withIdentity(String identity) {
    return new ClientOptions(target, namespace, identity, payloadConverter);
  }

  public ClientOptions withPayloadConverter(PayloadConverter converter) {
    return new ClientOptions(target, namespace, identity, converter);
  }
}
