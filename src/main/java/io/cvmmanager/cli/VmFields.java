package io.cvmmanager.cli;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Timestamp;
import io.cvmmanager.api.cvm.Vm;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

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
      if (value instanceof Timestamp at) {
        fields.put(field, vm.hasField(field) ? rfc3339(at) : null);
      } else if (value instanceof EnumValueDescriptor constant) {
        fields.put(field, constant.getName());
      } else {
        fields.put(field, value);
      }
    }
    return fields;
  }

  static String rfc3339(Timestamp at) {
    return Instant.ofEpochSecond(at.getSeconds(), at.getNanos()).toString();
  }
}
