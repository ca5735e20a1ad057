package io.cvmmanager.cli;

import com.google.protobuf.ByteString;
import io.cvmmanager.api.cvm.CreateVmRequest;
import io.cvmmanager.api.cvm.CvmServiceGrpcClient;
import io.cvmmanager.api.manager.CreateReq;
import io.cvmmanager.api.manager.CreateRes;
import io.cvmmanager.api.manager.ManagerServiceGrpcClient;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * cocos-cli's {@code create-vm}: the agent's settings into a CreateReq, the three PEM files as their bytes. The TTL
 * goes as written and the manager checks it (Go syntax) before anything starts; a zero TTL means none, so it is
 * not sent (the manager refuses a zero TTL from other clients). With {@code --vcpus}, {@code --memory} or
 * {@code --gpu} (ours) the call is our service's CreateVm, which embeds the same CreateReq and adds the VM's sizes;
 * without them it is upstream's, as cocos-cli sends it.
 */
@Command(name = "create-vm", mixinStandardHelpOptions = true, description = "Create a new virtual machine")
final class CreateVmCommand implements Callable<Integer> {
  @ParentCommand
  private Cvmctl cvmctl;

  @Option(names = "--server-url", required = true, paramLabel = "URL", description = "CVM server URL")
  private String serverUrl;

  @Option(names = "--server-ca", paramLabel = "FILE", description = "CVM server CA")
  private Path serverCa;

  @Option(names = "--client-key", paramLabel = "FILE", description = "CVM client key")
  private Path clientKey;

  @Option(names = "--client-crt", paramLabel = "FILE", description = "CVM client crt")
  private Path clientCrt;

  @Option(names = "--ca-url", paramLabel = "URL", description = "CVM CA service URL")
  private String caUrl = "";

  @Option(names = "--log-level", paramLabel = "LEVEL", description = "Agent log level")
  private String logLevel = "";

  @Option(names = "--ttl", paramLabel = "DURATION", description = "TTL for the VM, Go syntax (e.g. 10m, 1h30m)")
  private String ttl = "";

  @Option(names = "--aws-access-key-id", paramLabel = "ID", description = "AWS access key id for S3/MinIO")
  private String awsAccessKeyId = "";

  @Option(names = "--aws-secret-access-key", paramLabel = "KEY", description = "AWS secret access key for S3/MinIO")
  private String awsSecretAccessKey = "";

  @Option(names = "--aws-endpoint-url", paramLabel = "URL", description = "AWS endpoint URL (MinIO or custom S3)")
  private String awsEndpointUrl = "";

  @Option(names = "--aws-region", paramLabel = "REGION", description = "AWS region")
  private String awsRegion = "";

  @Option(names = "--aa-kbs-params", paramLabel = "PARAMS", description = "attestation agent KBS parameters")
  private String aaKbsParams = "";

  @Option(names = "--vcpus", paramLabel = "N", description = "this VM's vCPUs (ours; default MANAGER_QEMU_SMP_COUNT)")
  private Integer vcpus;

  @Option(names = "--memory", paramLabel = "SIZE",
      description = "this VM's memory, e.g. 512M or 4G (ours; default MANAGER_QEMU_MEMORY_SIZE)")
  private String memory;

  @Option(names = "--gpu", paramLabel = "any|none|BDF",
      description = "in GPU mode: any free GPU (default), none, or this one (ours)")
  private String gpu;

  private static boolean isZero(String ttl) {
    try {
      return io.cvmmanager.config.GoDuration.parse(ttl).isZero();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Override
  public Integer call() {
    CreateReq request;
    try {
      request = CreateReq.newBuilder()
          .setAgentCvmServerUrl(serverUrl)
          .setAgentCvmServerCaCert(read("--server-ca", serverCa))
          .setAgentCvmClientKey(read("--client-key", clientKey))
          .setAgentCvmClientCert(read("--client-crt", clientCrt))
          .setAgentCvmCaUrl(caUrl)
          .setAgentLogLevel(logLevel)
          .setTtl(isZero(ttl) ? "" : ttl)
          .setAwsAccessKeyId(awsAccessKeyId)
          .setAwsSecretAccessKey(awsSecretAccessKey)
          .setAwsEndpointUrl(awsEndpointUrl)
          .setAwsRegion(awsRegion)
          .setAaKbsParams(aaKbsParams)
          .build();
    } catch (UnreadableFile e) {
      return cvmctl.fail(e.getMessage());
    }
    if (vcpus == null && memory == null && gpu == null) {
      return cvmctl.call(ManagerServiceGrpcClient.CreateVm, request, CreateVmCommand::created);
    }
    if (vcpus != null && vcpus < 1) {
      return cvmctl.fail("--vcpus: " + vcpus + " is not a number of vCPUs");
    }
    CreateVmRequest.Builder sized = CreateVmRequest.newBuilder().setRequest(request);
    if (vcpus != null) {
      sized.setVcpus(vcpus);
    }
    if (memory != null) {
      sized.setMemory(memory);
    }
    if (gpu != null) {
      sized.setGpu(gpu);
    }
    return cvmctl.call(CvmServiceGrpcClient.CreateVm, sized.build(), CreateVmCommand::created);
  }

  private static String created(CreateRes created) {
    return "Virtual machine created successfully with id " + created.getCvmId() + " and port "
        + created.getForwardedPort();
  }

  /** The file's bytes, or none when the option is not given (as cocos-cli). */
  private static ByteString read(String option, Path file) throws UnreadableFile {
    if (file == null) {
      return ByteString.EMPTY;
    }
    try {
      return ByteString.copyFrom(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new UnreadableFile(option + ": " + file + ": no such file");
    } catch (AccessDeniedException e) {
      throw new UnreadableFile(option + ": " + file + ": permission denied");
    } catch (IOException e) {
      throw new UnreadableFile(option + ": " + file + ": " + e.getMessage());
    }
  }

  private static final class UnreadableFile extends Exception {
    UnreadableFile(String message) {
      super(message);
    }
  }
}
