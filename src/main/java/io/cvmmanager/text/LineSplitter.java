package io.cvmmanager.text;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Splits a byte stream that arrives in arbitrary chunks (a pipe's reads, a file read 64 KiB at a time) into UTF-8
 * lines. Lines end at {@code \n}; a {@code \r} before it is dropped too. Bytes are kept until their line is complete
 * and only then decoded, so a character cut by a chunk boundary comes out whole; bytes that are not UTF-8 become
 * U+FFFD. Memory is bounded: a line longer than {@code maxLineBytes} is handed over in pieces of at most that many
 * bytes, each cut before a character, never inside one, so that nothing is lost and a stream without newlines
 * cannot grow the buffer. Not thread-safe: one writer at a time.
 */
public final class LineSplitter {
  /** A UTF-8 character is at most 4 bytes: a smaller bound could not always cut between characters. */
  private static final int MIN_LINE_BYTES = 4;
  private static final int INITIAL_CAPACITY = 256;

  private final int maxLineBytes;
  private final Consumer<String> lines;
  private byte[] pending = new byte[INITIAL_CAPACITY];
  private int length;

  public LineSplitter(int maxLineBytes, Consumer<String> lines) {
    if (maxLineBytes < MIN_LINE_BYTES) {
      throw new IllegalArgumentException("maxLineBytes " + maxLineBytes + " < " + MIN_LINE_BYTES);
    }
    this.maxLineBytes = maxLineBytes;
    this.lines = lines;
  }

  /** Takes the buffer's remaining bytes; hands over every line they complete. */
  public void accept(ByteBuffer chunk) {
    while (chunk.hasRemaining()) {
      byte b = chunk.get();
      if (b == '\n') {
        emitLine();
      } else {
        append(b);
        // A \r at the end may still be the start of a \r\n: it does not count against the bound yet.
        if (length - (pending[length - 1] == '\r' ? 1 : 0) > maxLineBytes) {
          emitPiece();
        }
      }
    }
  }

  public void accept(byte[] chunk) {
    accept(ByteBuffer.wrap(chunk));
  }

  /** The stream ended: hands over a last line that had no newline. */
  public void end() {
    if (length > 0) {
      emitLine();
    }
  }

  private void append(byte b) {
    if (length == pending.length) {
      pending = Arrays.copyOf(pending, Math.min(pending.length * 2, maxLineBytes + 2));
    }
    pending[length++] = b;
  }

  /** The first at most {@code maxLineBytes} bytes, cut before the character that would not fit. */
  private void emitPiece() {
    int cut = maxLineBytes;
    // Back to the lead byte of a character that straddles the bound (continuation bytes are 10xxxxxx).
    while (cut > maxLineBytes - (MIN_LINE_BYTES - 1) && (pending[cut] & 0xC0) == 0x80) {
      cut--;
    }
    if ((pending[cut] & 0xC0) == 0x80) {
      cut = maxLineBytes;
    }
    lines.accept(new String(pending, 0, cut, StandardCharsets.UTF_8));
    System.arraycopy(pending, cut, pending, 0, length - cut);
    length -= cut;
  }

  private void emitLine() {
    int content = length > 0 && pending[length - 1] == '\r' ? length - 1 : length;
    length = 0;
    lines.accept(new String(pending, 0, content, StandardCharsets.UTF_8));
  }
}
