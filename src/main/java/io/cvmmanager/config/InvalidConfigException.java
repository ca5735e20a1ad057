package io.cvmmanager.config;

import java.util.List;

/** One or more configuration problems, each a single line naming the variable and what is wrong. */
public final class InvalidConfigException extends Exception {
  private final List<String> problems;

  public InvalidConfigException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
