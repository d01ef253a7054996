package dev.perdura.server.cluster;

import dev.perdura.server.common.BlockingCalls;
import dev.perdura.server.common.Errors;
import dev.perdura.server.history.HistoryService;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.TimerRow;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.temporal.api.enums.v1.ParentClosePolicy;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of {@link PeerProtocol}: what another server of the cluster asks this one to
 * do for a task queue or a run this server owns. A request for something this server does not own
 * (any more) fails with UNAVAILABLE, never travels on: the sender finds the owner again and retries.
 */
final class PeerService {
  private static final Logger log = LoggerFactory.getLogger(PeerService.class);
  private static final byte[] EMPTY = new byte[0];

  private final HistoryService history;
  private final Executor calls;

  PeerService(HistoryService history, Executor calls) {
    this.history = history;
    this.calls = calls;
  }

  ServerServiceDefinition service() {
    return ServerServiceDefinition.builder(PeerProtocol.SERVICE)
        .addMethod(PeerProtocol.ADD_TASK, handler(PeerProtocol.ADD_TASK, r -> {
          history.acceptTask(r.task());
          return EMPTY;
        }))
        .addMethod(PeerProtocol.START_WORKFLOW_TASK, handler(PeerProtocol.START_WORKFLOW_TASK, r -> {
          TaskRow task = ownedTask(r.task());
          return started(history.startWorkflowTask(task, r.string(), r.string()).map(m -> m.toByteArray()));
        }))
        .addMethod(PeerProtocol.START_ACTIVITY_TASK, handler(PeerProtocol.START_ACTIVITY_TASK, r -> {
          TaskRow task = ownedTask(r.task());
          return started(history.startActivityTask(task, r.string(), r.string()).map(m -> m.toByteArray()));
        }))
        .addMethod(PeerProtocol.START_CHILD, handler(PeerProtocol.START_CHILD, r -> {
          ExecutionKey parent = r.key();
          return new PeerProtocol.Writer().optionalString(history.startChildFor(parent, r.number())).toBytes();
        }))
        .addMethod(PeerProtocol.DELIVER_EXTERNAL, handler(PeerProtocol.DELIVER_EXTERNAL, r -> {
          ExecutionKey source = r.key();
          return new PeerProtocol.Writer().optionalString(history.deliverExternalFor(source, r.number())).toBytes();
        }))
        .addMethod(PeerProtocol.NOTIFY_PARENT, handler(PeerProtocol.NOTIFY_PARENT, r -> {
          history.notifyParentFor(r.key());
          return EMPTY;
        }))
        .addMethod(PeerProtocol.APPLY_POLICY_TO_CHILD, handler(PeerProtocol.APPLY_POLICY_TO_CHILD, r -> {
          ExecutionKey parent = r.key();
          String namespace = r.string();
          String workflowId = r.string();
          String firstRunId = r.string();
          ParentClosePolicy policy = ParentClosePolicy.forNumber((int) r.number());
          requireRun(namespace, workflowId);
          history.applyPolicyToChild(parent, namespace, workflowId, firstRunId, policy);
          return EMPTY;
        }))
        .addMethod(PeerProtocol.FIRE_TIMER, handler(PeerProtocol.FIRE_TIMER, r -> {
          history.fireTimer(new TimerRow(r.key(), r.string(), r.number()));
          return EMPTY;
        }))
        .build();
  }

  private TaskRow ownedTask(TaskRow task) {
    requireRun(task.execution().namespace(), task.execution().workflowId());
    return task;
  }

  private void requireRun(String namespace, String workflowId) {
    if (!history.ownsRun(namespace, workflowId)) {
      throw Errors.unavailable("workflow " + workflowId + " is not served by this server (any more)", null);
    }
  }

  private static byte[] started(Optional<byte[]> response) {
    PeerProtocol.Writer out = new PeerProtocol.Writer().flag(response.isPresent());
    response.ifPresent(out::bytes);
    return out.toBytes();
  }

  private io.grpc.ServerCallHandler<byte[], byte[]> handler(MethodDescriptor<byte[], byte[]> method,
      Function<PeerProtocol.Reader, byte[]> body) {
    return ServerCalls.asyncUnaryCall((byte[] request, StreamObserver<byte[]> response) ->
        BlockingCalls.offload(calls, method.getBareMethodName(), response, () -> answer(method, body, request, response)));
  }

  private static void answer(MethodDescriptor<byte[], byte[]> method, Function<PeerProtocol.Reader, byte[]> body,
      byte[] request, StreamObserver<byte[]> response) {
    byte[] result;
    try {
      result = body.apply(new PeerProtocol.Reader(request));
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    } catch (IllegalArgumentException e) {
      response.onError(Errors.invalidArgument(method.getBareMethodName() + ": " + e.getMessage()));
      return;
    } catch (RuntimeException e) {
      log.error("peer call {} failed unexpectedly", method.getBareMethodName(), e);
      response.onError(Errors.internal("internal error: " + e, e));
      return;
    }
    response.onNext(result);
    response.onCompleted();
  }
}
