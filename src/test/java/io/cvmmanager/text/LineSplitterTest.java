package io.cvmmanager.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {
  private final List<String> lines = new ArrayList<>();

  private LineSplitter splitter(int maxLineBytes) {
    return new LineSplitter(maxLineBytes, lines::add);
  }

  /** Feeds {@code bytes} cut at every one of {@code cuts}. */
  private static void feed(LineSplitter splitter, byte[] bytes, int... cuts) {
    int from = 0;
    for (int cut : cuts) {
      splitter.accept(Arrays.copyOfRange(bytes, from, cut));
      from = cut;
    }
    splitter.accept(Arrays.copyOfRange(bytes, from, bytes.length));
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aCharacterCutByEveryPossibleChunkBoundaryComesOutWhole() {
    // é (2 bytes), € (3 bytes), 😀 (4 bytes): a cut after each of their bytes.
    String text = "é€😀\n";
    byte[] bytes = utf8(text);
    for (int cut = 1; cut < bytes.length; cut++) {
      lines.clear();
      LineSplitter splitter = splitter(64);
      feed(splitter, bytes, cut);
      assertEquals(List.of("é€😀"), lines, "cut after byte " + cut);
    }
  }

  @Test
  void oneByteAtATimeStillGivesWholeLines() {
    LineSplitter splitter = splitter(64);
    for (byte b : utf8("héllo\r\nwörld\n")) {
      splitter.accept(new byte[] {b});
    }
    assertEquals(List.of("héllo", "wörld"), lines);
  }

  @Test
  void crLfEndsALineEvenWhenTheChunkEndsBetweenThem() {
    LineSplitter splitter = splitter(64);
    byte[] bytes = utf8("one\r\ntwo\r\n\r\nthree\n");
    feed(splitter, bytes, 4, 9);
    assertEquals(List.of("one", "two", "", "three"), lines);
  }

  @Test
  void aCarriageReturnInsideALineStays() {
    LineSplitter splitter = splitter(64);
    splitter.accept(utf8("progress 10%\rprogress 20%\n"));
    assertEquals(List.of("progress 10%\rprogress 20%"), lines);
  }

  @Test
  void aLastLineWithoutNewlineComesAtTheEndOnly() {
    LineSplitter splitter = splitter(64);
    splitter.accept(utf8("first\nlast"));
    assertEquals(List.of("first"), lines);
    splitter.accept(utf8(" words"));
    splitter.end();
    assertEquals(List.of("first", "last words"), lines);
  }

  @Test
  void endWithNothingPendingGivesNoEmptyLine() {
    LineSplitter splitter = splitter(64);
    splitter.accept(utf8("done\n"));
    splitter.end();
    assertEquals(List.of("done"), lines);
  }

  @Test
  void anOverlongLineComesInPiecesOfAtMostTheBoundWithNothingLost() {
    LineSplitter splitter = splitter(10);
    splitter.accept(utf8("0123456789abcdefghij0123\nnext\n"));
    assertEquals(List.of("0123456789", "abcdefghij", "0123", "next"), lines);
  }

  @Test
  void anOverlongLineIsCutBetweenCharactersNeverInsideOne() {
    LineSplitter splitter = splitter(10);
    // 8 ASCII bytes, then € (3 bytes) straddles the bound: the first piece stops before it.
    splitter.accept(utf8("abcdefgh€€€\n"));
    assertEquals(List.of("abcdefgh", "€€€"), lines);
    lines.forEach(line -> assertTrue(utf8(line).length <= 10, line));
  }

  @Test
  void aLineOfExactlyTheBoundEndedByCrLfIsOneLine() {
    LineSplitter splitter = splitter(10);
    feed(splitter, utf8("0123456789\r\nx\n"), 11);
    assertEquals(List.of("0123456789", "x"), lines);
  }

  @Test
  void aStreamWithoutNewlinesIsHandedOverAsItComes() {
    LineSplitter splitter = splitter(1024);
    byte[] chunk = new byte[4096];
    Arrays.fill(chunk, (byte) 'x');
    for (int i = 0; i < 256; i++) {
      splitter.accept(chunk);
    }
    // A piece goes as soon as the byte after it arrives; the last one waits for a newline or the end.
    assertEquals(1023, lines.size());
    splitter.end();
    assertEquals(1024, lines.size());
    lines.forEach(line -> assertEquals(1024, line.length()));
  }

  @Test
  void bytesThatAreNotUtf8BecomeReplacementCharacters() {
    LineSplitter splitter = splitter(64);
    splitter.accept(new byte[] {'a', (byte) 0xff, 'b', '\n'});
    assertEquals(List.of("a\uFFFDb"), lines);
  }

  @Test
  void aBoundTooSmallForOneCharacterIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> splitter(3));
  }
}
