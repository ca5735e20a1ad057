package io.cvmmanager.process;

/**
 * The fields of a {@code /proc/<pid>/stat} text after the command name, which sits in parentheses and may itself
 * hold spaces and parentheses: they start after the last ')'. Element 0 is field 3 (state), so field N is element
 * N - 3 (14 utime → 11, 15 stime → 12, 22 starttime → 19, 52 exit_code → 49).
 */
public final class StatFields {
  private StatFields() {}

  /** The fields from field 3 on; none when the text has no command name followed by fields. */
  public static String[] of(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0 || close + 2 >= stat.length()) {
      return new String[0];
    }
    return stat.substring(close + 2).trim().split(" ");
  }
}
