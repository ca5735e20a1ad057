package io.cvmmanager.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.WireFormat;
import io.cvmmanager.error.ClientText;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.StatusException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * A request's bytes to its message, in our code rather than in the gRPC library's decoder (which cancels the call
 * when a message does not parse, lets invalid UTF-8 through in proto3 strings, and inflates a compressed message
 * without a bound). A gzip message is inflated to at most the message limit; before anything is parsed, one pass
 * over the wire form checks every length-delimited field against its bound and every string field for valid UTF-8,
 * in embedded messages too (our CreateVm embeds upstream's CreateReq), so that no field reaches a parser, a log
 * line or a file unbounded. Linear in the request's size.
 */
final class WireRequests {
  /** A VM id is a UUID (36 characters); a little margin for what clients may add (braces, a URN prefix). */
  static final int ID_MAX_BYTES = 64;
  /** Longer than any Go duration a person writes ("2562047h47m16.854775807s" is the longest that fits). */
  static final int TTL_MAX_BYTES = 64;
  /** A size ({@code 512M}) or a GPU's PCI address ({@code 0000:01:00.0}). */
  static final int SIZE_MAX_BYTES = 32;
  /** Deeper than any request of ours embeds messages (CreateVm: one level). */
  private static final int MAX_DEPTH = 4;
  /** URLs, log levels, tokens, AWS names, KBS parameters: far above what they need. */
  static final int TEXT_MAX_BYTES = 8192;

  /** Fields bounded more tightly than {@link #TEXT_MAX_BYTES}, by name; bytes fields are bounded only by the message. */
  private static final Map<String, Integer> FIELD_MAX_BYTES = Map.of(
      "id", ID_MAX_BYTES,
      "cvm_id", ID_MAX_BYTES,
      "ttl", TTL_MAX_BYTES,
      "memory", SIZE_MAX_BYTES,
      "gpu", SIZE_MAX_BYTES);

  private WireRequests() {}

  /** The message's bytes as sent, inflated if gzip; other encodings and JSON are refused. */
  static Buffer payload(String rpc, GrpcMessage message) throws StatusException {
    if (message.format() != io.vertx.grpc.common.WireFormat.PROTOBUF) {
      throw new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": only protobuf requests are taken");
    }
    return switch (message.encoding()) {
      case "identity" -> message.payload();
      case "gzip" -> inflate(rpc, message.payload());
      default -> throw new StatusException(GrpcStatus.UNIMPLEMENTED, rpc + ": encoding "
          + ClientText.quote(message.encoding()) + " is not supported (identity, gzip)");
    };
  }

  private static Buffer inflate(String rpc, Buffer compressed) throws StatusException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(compressed.getBytes()))) {
      byte[] inflated = in.readNBytes(GrpcApiVerticle.MAX_MESSAGE_BYTES + 1);
      if (inflated.length > GrpcApiVerticle.MAX_MESSAGE_BYTES) {
        throw new StatusException(GrpcStatus.RESOURCE_EXHAUSTED, rpc + ": the request inflates to more than the"
            + " message limit of " + GrpcApiVerticle.MAX_MESSAGE_BYTES + " bytes");
      }
      return Buffer.buffer(inflated);
    } catch (IOException e) {
      throw new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": not valid gzip (" + e.getMessage() + ")");
    }
  }

  /** The message of {@code prototype}'s type in {@code payload}, or INVALID_ARGUMENT saying what is wrong with it. */
  @SuppressWarnings("unchecked")
  static <T extends Message> T parse(String rpc, Buffer payload, T prototype) throws StatusException {
    // The request's own memory, not a copy: up to 4 MiB per call that the event loop need not copy.
    ByteBuffer bytes = ((BufferInternal) payload).getByteBuf().nioBuffer();
    try {
      check(prototype.getDescriptorForType(), bytes.duplicate(), "", 0);
      return (T) prototype.getParserForType().parseFrom(bytes.duplicate());
    } catch (InvalidFieldException e) {
      throw new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": " + e.getMessage());
    } catch (InvalidProtocolBufferException e) {
      throw new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": malformed request (" + e.getMessage() + ")");
    } catch (IOException e) {
      throw new StatusException(GrpcStatus.INVALID_ARGUMENT, rpc + ": unreadable request (" + e.getMessage() + ")");
    }
  }

  /** Checks the fields of a {@code type} message in {@code bytes}; {@code path} names an embedded one's field. */
  private static void check(Descriptor type, ByteBuffer bytes, String path, int depth) throws IOException {
    if (depth > MAX_DEPTH) {
      throw new InvalidFieldException(path + " nests messages deeper than " + MAX_DEPTH);
    }
    int size = bytes.remaining();
    int start = bytes.position();
    CodedInputStream in = CodedInputStream.newInstance(bytes.duplicate());
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      FieldDescriptor field = type.findFieldByNumber(WireFormat.getTagFieldNumber(tag));
      if (field == null || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        in.skipField(tag);
        continue;
      }
      int length = in.readRawVarint32();
      int max = maxBytes(field);
      String name = path + field.getName();
      if (length > max) {
        throw new InvalidFieldException(name + " is " + length + " bytes long; at most " + max);
      }
      if (length < 0 || length > size - in.getTotalBytesRead()) {
        throw new InvalidProtocolBufferException("field " + name + " is cut short");
      }
      ByteBuffer value = bytes.slice(start + in.getTotalBytesRead(), length);
      if (field.getType() == FieldDescriptor.Type.STRING && !ByteString.copyFrom(value).isValidUtf8()) {
        throw new InvalidFieldException(name + " is not valid UTF-8");
      }
      if (field.getType() == FieldDescriptor.Type.MESSAGE) {
        check(field.getMessageType(), value, name + ".", depth + 1);
      }
      in.skipRawBytes(length);
    }
  }

  private static int maxBytes(FieldDescriptor field) {
    if (field.getType() == FieldDescriptor.Type.BYTES || field.getType() == FieldDescriptor.Type.MESSAGE) {
      return GrpcApiVerticle.MAX_MESSAGE_BYTES;
    }
    return FIELD_MAX_BYTES.getOrDefault(field.getName(), TEXT_MAX_BYTES);
  }

  /** A field over its bound or not UTF-8: said as it is, without protobuf's "while parsing" wording. */
  private static final class InvalidFieldException extends InvalidProtocolBufferException {
    InvalidFieldException(String message) {
      super(message);
    }
  }
}
