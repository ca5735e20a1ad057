package io.cvmmanager.cli;

import java.util.List;
import java.util.stream.Collectors;

/** Rows as text columns for people: each column as wide as its widest cell, two spaces apart, the last unpadded. */
final class Table {
  private Table() {}

  /** {@code rows}, the first being the header, every row as long as the header. */
  static String of(List<List<String>> rows) {
    int[] widths = new int[rows.get(0).size()];
    for (List<String> row : rows) {
      for (int column = 0; column < widths.length; column++) {
        widths[column] = Math.max(widths[column], row.get(column).length());
      }
    }
    return rows.stream().map(row -> {
      StringBuilder line = new StringBuilder();
      for (int column = 0; column < widths.length - 1; column++) {
        line.append(String.format("%-" + widths[column] + "s  ", row.get(column)));
      }
      return line.append(row.get(widths.length - 1)).toString();
    }).collect(Collectors.joining("\n"));
  }
}
