package io.cvmmanager.attestation;

import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * A thin layer over jackson-dataformat-cbor's {@link CBORGenerator} for the integer-keyed, tagged, definite-length
 * CBOR of CoRIM and COSE: each item in the preferred (shortest) serialization, so that the caller, by writing map
 * keys in ascending order, produces deterministically encoded CBOR (RFC 8949 §4.2.1).
 */
final class CborWriter {
  private static final CBORFactory FACTORY = new CBORFactory();

  private final CBORGenerator generator;

  private CborWriter(CBORGenerator generator) {
    this.generator = generator;
  }

  /** The bytes of the one CBOR item that {@code item} writes. */
  static byte[] encode(Consumer<CborWriter> item) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (CBORGenerator generator = FACTORY.createGenerator(bytes)) {
      item.accept(new CborWriter(generator));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Starts a map of {@code size} pairs; write each key ({@link #key}) then its value. */
  CborWriter map(int size) {
    return write(() -> generator.writeStartObject(null, size));
  }

  CborWriter endMap() {
    return write(generator::writeEndObject);
  }

  CborWriter array(int size) {
    return write(() -> generator.writeStartArray(null, size));
  }

  CborWriter endArray() {
    return write(generator::writeEndArray);
  }

  /** An integer map key (CoRIM and COSE maps are keyed by small integers). */
  CborWriter key(long key) {
    return write(() -> generator.writeFieldId(key));
  }

  /** Tags the next item. */
  CborWriter tag(int tag) {
    return write(() -> generator.writeTag(tag));
  }

  CborWriter integer(long value) {
    return write(() -> generator.writeNumber(value));
  }

  CborWriter text(String value) {
    return write(() -> generator.writeString(value));
  }

  CborWriter bytes(byte[] value) {
    return write(() -> generator.writeBinary(value));
  }

  private CborWriter write(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  private interface IoAction {
    void run() throws IOException;
  }
}
