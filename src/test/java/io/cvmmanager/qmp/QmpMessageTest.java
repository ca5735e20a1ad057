package io.cvmmanager.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class QmpMessageTest {
  @Test
  void anEventCarriesQemusTimestamp() {
    QmpMessage.Event event = assertInstanceOf(QmpMessage.Event.class, QmpMessage.parse("{\"event\": \"SHUTDOWN\","
        + " \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"},"
        + " \"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}}"));
    assertEquals("SHUTDOWN", event.name());
    assertEquals("guest-shutdown", event.data().getString("reason"));
    assertEquals(Instant.parse("2023-11-14T22:13:20.123456Z"), event.time());
  }

  @Test
  void anEventWithoutAValidTimestampIsTimedAtItsArrival() {
    for (String timestamp : new String[] {"", ", \"timestamp\": {}",
        ", \"timestamp\": {\"seconds\": -1, \"microseconds\": -1}", ", \"timestamp\": \"now\""}) {
      Instant before = Instant.now();
      QmpMessage.Event event = assertInstanceOf(QmpMessage.Event.class,
          QmpMessage.parse("{\"event\": \"STOP\"" + timestamp + "}"));
      assertTrue(!event.time().isBefore(before) && !event.time().isAfter(Instant.now()), timestamp + ": " + event);
    }
  }
}
