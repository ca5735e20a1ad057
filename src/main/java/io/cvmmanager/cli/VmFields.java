package io.cvmmanager.cli;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.cvmmanager.api.cvm.Vm;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every field of a {@code cvm.v1.Vm}, in the proto's order, with the values cvmctl prints: enums by name, timestamps
 * in RFC 3339 (UTC), an unset timestamp as null. Read from the descriptor, so a field added to the proto is printed
 * without a change here.
 */
final class VmFields {
  private VmFields() {}

  static Map<FieldDescriptor, Object> of(Vm vm) {
    Map<FieldDescriptor, Object> fields = new LinkedHashMap<>();
    for (FieldDescriptor field : Vm.getDescriptor().getFields()) {
      Object value = vm.getField(field);
      if (field.isMapField()) {
        fields.put(field, mapOf(field, vm));
      } else if (value instanceof Timestamp at) {
        fields.put(field, vm.hasField(field) ? rfc3339(at) : null);
      } else if (value instanceof EnumValueDescriptor constant) {
        fields.put(field, constant.getName());
      } else {
        fields.put(field, value);
      }
    }
    return fields;
  }

  /** A map field (kvm_stats) by key, in key order, rather than protobuf's list of entries. */
  private static Map<Object, Object> mapOf(FieldDescriptor field, Vm vm) {
    Map<Object, Object> entries = new TreeMap<>();
    FieldDescriptor key = field.getMessageType().findFieldByName("key");
    FieldDescriptor value = field.getMessageType().findFieldByName("value");
    for (int i = 0; i < vm.getRepeatedFieldCount(field); i++) {
      Message entry = (Message) vm.getRepeatedField(field, i);
      entries.put(entry.getField(key), entry.getField(value));
    }
    return entries;
  }

  static String rfc3339(Timestamp at) {
    return Instant.ofEpochSecond(at.getSeconds(), at.getNanos()).toString();
  }
}
