package dev.perdura.converter;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.perdura.common.Payload;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The encodings of Temporal's default converter, tried in this order when encoding:
 *
 * <ol>
 *   <li>{@code binary/null} for {@code null};
 *   <li>{@code binary/plain} for {@code byte[]};
 *   <li>{@code json/protobuf} for protobuf messages (with {@code messageType} metadata);
 *   <li>{@code json/plain} for everything else, with Jackson.
 * </ol>
 *
 * Decoding also accepts {@code binary/protobuf}. Records, collections, {@code java.time} types (with
 * jackson-datatype-jsr310 on the class path) and anything Jackson maps work as values.
 *
 * <pre>{@code
 * PayloadConverter converter = DefaultPayloadConverter.withObjectMapper(myMapper);
 * }</pre>
 */
public final class DefaultPayloadConverter implements PayloadConverter {
  public static final String BINARY_NULL = "binary/null";
  public static final String BINARY_PLAIN = "binary/plain";
  public static final String JSON_PLAIN = "json/plain";
  public static final String JSON_PROTOBUF = "json/protobuf";
  public static final String BINARY_PROTOBUF = "binary/protobuf";
  private static final String MESSAGE_TYPE = "messageType";

  static final DefaultPayloadConverter INSTANCE = new DefaultPayloadConverter(defaultMapper());

  private final ObjectMapper mapper;

  private DefaultPayloadConverter(ObjectMapper mapper) {
    this.mapper = Objects.requireNonNull(mapper, "mapper");
  }

  /** The default converter with a Jackson mapper of your own for {@code json/plain}. */
  public static DefaultPayloadConverter withObjectMapper(ObjectMapper mapper) {
    return new DefaultPayloadConverter(mapper);
  }

  private static ObjectMapper defaultMapper() {
    return JsonMapper.builder()
        .findAndAddModules()
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .build();
  }

  @Override
  public Payload toPayload(Object value) {
    if (value == null) {
      return Payload.of(BINARY_NULL, new byte[0]);
    }
    if (value instanceof byte[] bytes) {
      return Payload.of(BINARY_PLAIN, bytes);
    }
    if (value instanceof Message message) {
      try {
        Map<String, byte[]> metadata = new LinkedHashMap<>();
        metadata.put(Payload.ENCODING, JSON_PROTOBUF.getBytes(StandardCharsets.UTF_8));
        metadata.put(MESSAGE_TYPE, message.getDescriptorForType().getFullName().getBytes(StandardCharsets.UTF_8));
        return new Payload(metadata, JsonFormat.printer().print(message).getBytes(StandardCharsets.UTF_8));
      } catch (InvalidProtocolBufferException e) {
        throw new DataConversionException("cannot encode " + message.getDescriptorForType().getFullName(), e);
      }
    }
    try {
      return Payload.of(JSON_PLAIN, mapper.writeValueAsBytes(value));
    } catch (IOException e) {
      throw new DataConversionException("cannot encode a " + value.getClass().getName() + " as JSON", e);
    }
  }

  @Override
  public Object fromPayload(Payload payload, Type type) {
    String encoding = payload.encoding();
    JavaType target = mapper.getTypeFactory().constructType(type);
    return switch (encoding) {
      case BINARY_NULL -> {
        if (target.isPrimitive()) {
          throw new DataConversionException("cannot decode null into primitive " + target);
        }
        yield null;
      }
      case BINARY_PLAIN -> {
        if (!target.hasRawClass(byte[].class) && !target.hasRawClass(Object.class)) {
          throw new DataConversionException("cannot decode binary/plain into " + target + "; expected byte[]");
        }
        yield payload.data();
      }
      case JSON_PROTOBUF, BINARY_PROTOBUF -> protobuf(payload, target.getRawClass(), encoding);
      case JSON_PLAIN -> {
        try {
          yield mapper.readValue(payload.data(), target);
        } catch (IOException e) {
          throw new DataConversionException("cannot decode json/plain into " + target + ": " + e.getMessage(), e);
        }
      }
      default -> throw new DataConversionException("unknown payload encoding '" + encoding + "'");
    };
  }

  @Override
  public Object fromPayload(Payload payload) {
    return switch (payload.encoding()) {
      case JSON_PROTOBUF -> fromPayload(payload.withEncoding(JSON_PLAIN), Object.class);
      case BINARY_PROTOBUF -> payload.data();
      default -> fromPayload(payload, Object.class);
    };
  }

  private static Object protobuf(Payload payload, Class<?> type, String encoding) {
    if (!Message.class.isAssignableFrom(type)) {
      throw new DataConversionException("cannot decode " + encoding + " ("
          + payload.metadataString(MESSAGE_TYPE).orElse("unknown message") + ") into " + type.getName());
    }
    try {
      Method newBuilder = type.getMethod("newBuilder");
      Message.Builder builder = (Message.Builder) newBuilder.invoke(null);
      if (encoding.equals(BINARY_PROTOBUF)) {
        builder.mergeFrom(payload.data());
      } else {
        JsonFormat.parser().ignoringUnknownFields().merge(new String(payload.data(), StandardCharsets.UTF_8), builder);
      }
      return builder.build();
    } catch (ReflectiveOperationException | IOException e) {
      throw new DataConversionException("cannot decode " + encoding + " into " + type.getName(), e);
    }
  }
}
