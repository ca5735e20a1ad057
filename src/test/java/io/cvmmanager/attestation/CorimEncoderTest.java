package io.cvmmanager.attestation;

import static io.cvmmanager.attestation.IndependentCbor.at;
import static io.cvmmanager.attestation.IndependentCbor.hex;
import static io.cvmmanager.attestation.IndependentCbor.untag;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cvmmanager.vm.Tee;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CoRIM's bytes as an independent decoder (Python's cbor2) reads them. */
class CorimEncoderTest {
  static final String VM_ID = "0b5b2a0e-58e3-4f43-9d0e-4a5b6c7d8e9f";
  static final byte[] MEASUREMENT = filled(48, 0xa1);
  static final byte[] HOST_DATA = filled(32, 0xb2);
  static final long LAUNCH_TCB = 0x1500_0000_0000_0304L;
  static final byte[] PCR0_SHA1 = filled(20, 0x01);
  static final byte[] PCR0_SHA256 = filled(32, 0x02);
  static final byte[] PCR0_SHA384 = filled(48, 0x03);
  static final byte[] PCR7_SHA256 = filled(32, 0x07);

  static byte[] filled(int length, int seed) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) (seed + i);
    }
    return bytes;
  }

  static String hexOf(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  static PolicyInput snpInput() {
    PcrValues pcrs = new PcrValues(Map.of(
        "sha384", Map.of(0, PCR0_SHA384),
        "sha256", Map.of(7, PCR7_SHA256, 0, PCR0_SHA256),
        "sha1", Map.of(0, PCR0_SHA1)));
    return new PolicyInput(VM_ID, Tee.SEV_SNP, "EPYC", MEASUREMENT, Optional.of(3L), Optional.of(HOST_DATA),
        LAUNCH_TCB, List.of(), pcrs);
  }

  static PolicyInput tdxInput(List<PolicyInput.TdxRegister> registers) {
    return new PolicyInput(VM_ID, Tee.TDX, "EPYC", MEASUREMENT, Optional.empty(), Optional.empty(), 0, registers,
        PcrValues.NONE);
  }

  static List<PolicyInput.TdxRegister> tdxRegisters() {
    return List.of(new PolicyInput.TdxRegister("MRSEAM", filled(48, 0x10)),
        new PolicyInput.TdxRegister("RTMR0", filled(48, 0x20)), new PolicyInput.TdxRegister("RTMR1", filled(48, 0x30)),
        new PolicyInput.TdxRegister("RTMR2", filled(48, 0x40)), new PolicyInput.TdxRegister("RTMR3", filled(48, 0x50)));
  }

  /** The decoded CoMID inside the tag-501 CoRIM, after checking the CoRIM's tag, id and the tag 506 around it. */
  static Object comid(JsonObject dump, String corimId) {
    Object corim = untag(dump.getValue("item"), 501);
    assertEquals(corimId, at(corim, 0));
    JsonArray tags = (JsonArray) at(corim, 1);
    assertEquals(1, tags.size());
    JsonObject wrapped = (JsonObject) untag(tags.getValue(0), 506);
    assertEquals(true, wrapped.getBoolean("canonical"), "CoMID bytes in deterministic encoding");
    return wrapped.getValue("cbor");
  }

  static JsonArray digests(Object measurement) {
    return (JsonArray) at(measurement, 1, 2);
  }

  @Test
  void snpPolicyHoldsMeasurementSvnHostDataTcbAndPcrs(@TempDir Path dir) throws Exception {
    byte[] corim = CorimEncoder.encode(snpInput());
    JsonObject dump = IndependentCbor.dump(corim, dir);
    assertEquals(true, dump.getBoolean("canonical"), "deterministic encoding (RFC 8949 §4.2.1)");

    Object comid = comid(dump, "snp-corim-" + VM_ID);
    assertEquals("snp-tag-" + VM_ID, at(comid, 1, 0));
    JsonArray triples = (JsonArray) at(comid, 4, 0);
    assertEquals(2, triples.size(), "TEE triple and vTPM triple");

    String instance = IndependentCbor.uuid5("OID", "EPYC");
    Object environment = at(triples, 0, 0);
    assertEquals(IndependentCbor.uuid5("URL", "urn:cvm-manager:corim:class:snp"),
        hex(untag(at(environment, 0, 0), 37)));
    assertEquals("AMD", at(environment, 0, 1));
    assertEquals("SEV-SNP", at(environment, 0, 2));
    assertEquals(instance, hex(untag(at(environment, 1), 37)));

    JsonArray measurements = (JsonArray) at(triples, 0, 1);
    assertEquals(3, measurements.size());
    Object launch = measurements.getValue(0);
    assertEquals(0x1000, at(launch, 0));
    assertEquals(1, digests(launch).size());
    assertEquals(7, at(launch, 1, 2, 0, 0), "sha-384 for 48 bytes");
    assertEquals(hexOf(MEASUREMENT), hex(at(launch, 1, 2, 0, 1)));
    assertEquals(3, untag(at(launch, 1, 1), 552), "exact SVN");

    Object hostData = measurements.getValue(1);
    assertEquals(0x1001, at(hostData, 0));
    assertEquals(hexOf(HOST_DATA), hex(untag(at(hostData, 1, 4), 560)));

    Object tcb = measurements.getValue(2);
    assertEquals(0x1003, at(tcb, 0));
    assertEquals("0403000000000015", hex(untag(at(tcb, 1, 4), 560)), "launch TCB, 8 bytes little-endian");

    Object vtpmEnvironment = at(triples, 1, 0);
    assertEquals(IndependentCbor.uuid5("URL", "urn:cvm-manager:corim:class:vtpm"),
        hex(untag(at(vtpmEnvironment, 0, 0), 37)));
    assertEquals(instance, hex(untag(at(vtpmEnvironment, 1), 37)));
    JsonArray pcrMeasurements = (JsonArray) at(triples, 1, 1);
    assertEquals(1, pcrMeasurements.size());
    JsonObject registers = ((JsonObject) at(pcrMeasurements, 0, 1, 14)).getJsonObject("map");
    assertEquals(2, registers.size(), "PCR 0 and PCR 7: " + registers);
    assertEquals(new JsonArray()
        .add(new JsonArray().add("sha-1").add(new JsonObject().put("hex", hexOf(PCR0_SHA1))))
        .add(new JsonArray().add(1).add(new JsonObject().put("hex", hexOf(PCR0_SHA256))))
        .add(new JsonArray().add(7).add(new JsonObject().put("hex", hexOf(PCR0_SHA384)))), registers.getValue("0"));
    assertEquals(new JsonArray().add(new JsonArray().add(1).add(new JsonObject().put("hex", hexOf(PCR7_SHA256)))),
        registers.getValue("7"));
  }

  @Test
  void tdxPolicyHoldsMrtdAndRegistersAsSha384(@TempDir Path dir) throws Exception {
    JsonObject dump = IndependentCbor.dump(CorimEncoder.encode(tdxInput(tdxRegisters())), dir);
    assertEquals(true, dump.getBoolean("canonical"));
    Object comid = comid(dump, "tdx-corim-" + VM_ID);
    assertEquals("tdx-tag-" + VM_ID, at(comid, 1, 0));
    JsonArray triples = (JsonArray) at(comid, 4, 0);
    assertEquals(1, triples.size(), "no vTPM triple without PCR values");
    assertEquals(IndependentCbor.uuid5("URL", "urn:cvm-manager:corim:class:tdx"),
        hex(untag(at(triples, 0, 0, 0, 0), 37)));
    assertEquals("Intel", at(triples, 0, 0, 0, 1));
    assertEquals(IndependentCbor.uuid5("OID", "EPYC"), hex(untag(at(triples, 0, 0, 1), 37)));

    JsonArray measurements = (JsonArray) at(triples, 0, 1);
    List<Integer> keys = List.of(0x2000, 0x2001, 0x2010, 0x2011, 0x2012, 0x2013);
    List<byte[]> values = List.of(MEASUREMENT, filled(48, 0x10), filled(48, 0x20), filled(48, 0x30),
        filled(48, 0x40), filled(48, 0x50));
    assertEquals(keys.size(), measurements.size());
    for (int i = 0; i < keys.size(); i++) {
      Object measurement = measurements.getValue(i);
      assertEquals(keys.get(i), at(measurement, 0));
      assertEquals(1, digests(measurement).size());
      assertEquals(7, at(measurement, 1, 2, 0, 0));
      assertEquals(hexOf(values.get(i)), hex(at(measurement, 1, 2, 0, 1)));
      assertNull(at(measurement, 1, 1), "no SVN");
    }
  }

  @Test
  void sameInputGivesSameBytesWhateverTheOrderOfItsMaps() {
    PolicyInput input = snpInput();
    // Banks and indexes inserted in the reverse of the input's order, whatever that is (Map.of's iteration order
    // changes from one JVM to the next).
    java.util.LinkedHashMap<String, Map<Integer, byte[]>> banks = new java.util.LinkedHashMap<>();
    List<String> bankNames = new java.util.ArrayList<>(input.pcrValues().banks().keySet());
    java.util.Collections.reverse(bankNames);
    for (String bank : bankNames) {
      List<Integer> indexes = new java.util.ArrayList<>(input.pcrValues().banks().get(bank).keySet());
      java.util.Collections.reverse(indexes);
      java.util.LinkedHashMap<Integer, byte[]> values = new java.util.LinkedHashMap<>();
      indexes.forEach(index -> values.put(index, input.pcrValues().banks().get(bank).get(index)));
      banks.put(bank, values);
    }
    PcrValues reordered = new PcrValues(banks);
    assertNotEquals(List.copyOf(input.pcrValues().banks().keySet()), List.copyOf(reordered.banks().keySet()),
        "the banks really come in another order");
    PolicyInput same = new PolicyInput(input.vmId(), input.tee(), input.cpuModel(), input.measurement(),
        input.svn(), input.hostData(), input.minLaunchTcb(), input.tdxRegisters(), reordered);
    assertArrayEquals(CorimEncoder.encode(input), CorimEncoder.encode(same));
    List<PolicyInput.TdxRegister> backwards = new java.util.ArrayList<>(tdxRegisters());
    java.util.Collections.reverse(backwards);
    assertArrayEquals(CorimEncoder.encode(tdxInput(tdxRegisters())), CorimEncoder.encode(tdxInput(backwards)));
  }

  @Test
  void digestAlgorithmFollowsTheLength(@TempDir Path dir) throws Exception {
    PolicyInput sha256 = new PolicyInput(VM_ID, Tee.SEV_SNP, "EPYC-v4", filled(32, 9), Optional.empty(),
        Optional.empty(), 0, List.of(), PcrValues.NONE);
    Object comid = comid(IndependentCbor.dump(CorimEncoder.encode(sha256), dir), "snp-corim-" + VM_ID);
    JsonArray measurements = (JsonArray) at(comid, 4, 0, 0, 1);
    assertEquals(1, measurements.size(), "no host data, no TCB constraint: only the measurement");
    assertEquals(1, at(measurements, 0, 1, 2, 0, 0), "sha-256 for 32 bytes");
    assertNull(at(measurements, 0, 1, 1), "no SVN when unknown");
    assertEquals(IndependentCbor.uuid5("OID", "EPYC-v4"), hex(untag(at(comid, 4, 0, 0, 0, 1), 37)));
  }

  @Test
  void refusesValuesThatDoNotFitTheirField() {
    PolicyInput shortMeasurement = new PolicyInput(VM_ID, Tee.SEV_SNP, "EPYC", filled(47, 0), Optional.empty(),
        Optional.empty(), 0, List.of(), PcrValues.NONE);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> CorimEncoder.encode(shortMeasurement))
        .getMessage().contains("47 bytes"));
    PolicyInput shortHostData = new PolicyInput(VM_ID, Tee.SEV_SNP, "EPYC", MEASUREMENT, Optional.empty(),
        Optional.of(filled(31, 0)), 0, List.of(), PcrValues.NONE);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> CorimEncoder.encode(shortHostData))
        .getMessage().contains("host data"));
    PolicyInput tdxSvn = new PolicyInput(VM_ID, Tee.TDX, "EPYC", MEASUREMENT, Optional.of(1L), Optional.empty(), 0,
        List.of(), PcrValues.NONE);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> CorimEncoder.encode(tdxSvn))
        .getMessage().contains("SVN"));
    PolicyInput unknownRegister = tdxInput(List.of(new PolicyInput.TdxRegister("RTMR4", filled(48, 0))));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> CorimEncoder.encode(unknownRegister))
        .getMessage().contains("RTMR4"));
    PolicyInput twice = tdxInput(List.of(new PolicyInput.TdxRegister("RTMR0", filled(48, 0)),
        new PolicyInput.TdxRegister("RTMR0", filled(48, 1))));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> CorimEncoder.encode(twice))
        .getMessage().contains("twice"));
  }

  @Test
  void classIdsAreTheDocumentedUuids() {
    assertEquals("69ec6b37-64eb-5315-9d7b-f774d0396449", CorimEncoder.CLASS_SNP.toString());
    assertEquals("638c6aab-79d3-5ee0-81c8-539c1ea168f3", CorimEncoder.CLASS_TDX.toString());
    assertEquals("a28d2ec4-24e1-584d-85c9-1bf6946bb3eb", CorimEncoder.CLASS_VTPM.toString());
  }
}
