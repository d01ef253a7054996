package dev.perdura.server.cluster;

import dev.perdura.server.common.TaskToken;
import dev.perdura.server.history.HistoryService;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import io.temporal.api.workflowservice.v1.*;
import com.google.protobuf.ByteString;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToIntFunction;

/**
 * Sends each WorkflowService call to the server that owns what it is about: calls about a run to
 * the owner of the run's history shard, polls and task-queue calls to the owner of the queue's
 * shard, everything else (namespaces, visibility, system info) is served where it arrives. A call
 * goes on as it came, with its deadline, and the owner's status and trailers come back. A call
 * that was forwarded once and still does not reach the owner (ownership just moved) fails with
 * UNAVAILABLE, which clients retry, instead of hopping on.
 */
final class CallRouter {
  static final Metadata.Key<String> FORWARDED_BY =
      Metadata.Key.of("perdura-forwarded-by", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<String> FORWARDED_FROM = Context.key("perdura-forwarded-by");
  /** A call served where it arrives. */
  private static final int HERE = -1;

  private final String nodeId;
  private final PeerClient.Owners owners;
  private final Channels channels;
  /** The shard each routed method's request belongs to, by full method name. */
  private final Map<String, ToIntFunction<Object>> routes = new HashMap<>();

  CallRouter(String nodeId, PeerClient.Owners owners, Channels channels) {
    this.nodeId = nodeId;
    this.owners = owners;
    this.channels = channels;
    routeBy(WorkflowServiceGrpc.getStartWorkflowExecutionMethod(), r -> run(r.getNamespace(), r.getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getSignalWithStartWorkflowExecutionMethod(),
        r -> run(r.getNamespace(), r.getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getSignalWorkflowExecutionMethod(),
        r -> run(r.getNamespace(), r.getWorkflowExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getRequestCancelWorkflowExecutionMethod(),
        r -> run(r.getNamespace(), r.getWorkflowExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getTerminateWorkflowExecutionMethod(),
        r -> run(r.getNamespace(), r.getWorkflowExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getDescribeWorkflowExecutionMethod(),
        r -> run(r.getNamespace(), r.getExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getGetWorkflowExecutionHistoryMethod(),
        r -> run(r.getNamespace(), r.getExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getQueryWorkflowMethod(), r -> run(r.getNamespace(), r.getExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getResetStickyTaskQueueMethod(),
        r -> run(r.getNamespace(), r.getExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getPauseActivityMethod(), r -> run(r.getNamespace(), r.getExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getUnpauseActivityMethod(),
        r -> run(r.getNamespace(), r.getExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getResetActivityMethod(), r -> run(r.getNamespace(), r.getExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getUpdateActivityOptionsMethod(),
        r -> run(r.getNamespace(), r.getExecution().getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getRespondActivityTaskCompletedByIdMethod(),
        r -> run(r.getNamespace(), r.getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getRespondActivityTaskFailedByIdMethod(), r -> run(r.getNamespace(), r.getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getRespondActivityTaskCanceledByIdMethod(),
        r -> run(r.getNamespace(), r.getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getRecordActivityTaskHeartbeatByIdMethod(),
        r -> run(r.getNamespace(), r.getWorkflowId()));
    routeBy(WorkflowServiceGrpc.getRespondWorkflowTaskCompletedMethod(), r -> token(r.getTaskToken()));
    routeBy(WorkflowServiceGrpc.getRespondWorkflowTaskFailedMethod(), r -> token(r.getTaskToken()));
    routeBy(WorkflowServiceGrpc.getRespondQueryTaskCompletedMethod(), r -> token(r.getTaskToken()));
    routeBy(WorkflowServiceGrpc.getRespondActivityTaskCompletedMethod(), r -> token(r.getTaskToken()));
    routeBy(WorkflowServiceGrpc.getRespondActivityTaskFailedMethod(), r -> token(r.getTaskToken()));
    routeBy(WorkflowServiceGrpc.getRespondActivityTaskCanceledMethod(), r -> token(r.getTaskToken()));
    routeBy(WorkflowServiceGrpc.getRecordActivityTaskHeartbeatMethod(), r -> token(r.getTaskToken()));
    routeBy(WorkflowServiceGrpc.getPollWorkflowTaskQueueMethod(),
        r -> queue(r.getNamespace(), r.getTaskQueue().getName()));
    routeBy(WorkflowServiceGrpc.getPollActivityTaskQueueMethod(),
        r -> queue(r.getNamespace(), r.getTaskQueue().getName()));
    routeBy(WorkflowServiceGrpc.getDescribeTaskQueueMethod(), r -> queue(r.getNamespace(), r.getTaskQueue().getName()));
    // The sticky queue's backlog moves to the runs' normal queues at its owner; polls elsewhere end
    // when the worker cancels them.
    routeBy(WorkflowServiceGrpc.getShutdownWorkerMethod(),
        r -> r.getStickyTaskQueue().isEmpty() ? HERE : queue(r.getNamespace(), r.getStickyTaskQueue()));
  }

  @SuppressWarnings("unchecked")
  private <Q> void routeBy(MethodDescriptor<Q, ?> method, ToIntFunction<Q> shard) {
    routes.put(method.getFullMethodName(), request -> shard.applyAsInt((Q) request));
  }

  private int run(String namespace, String workflowId) {
    return HistoryService.runShard(namespace, workflowId, owners.shardCount());
  }

  private int queue(String namespace, String taskQueue) {
    return HistoryService.queueShard(namespace, taskQueue, owners.shardCount());
  }

  /** A malformed token is the frontend's to refuse, here. */
  private int token(ByteString bytes) {
    try {
      TaskToken token = TaskToken.decode(bytes.toByteArray());
      return run(token.namespace(), token.workflowId());
    } catch (RuntimeException e) {
      return HERE;
    }
  }

  /** Puts the forwarding mark of an incoming call into its context; install on the whole server. */
  static ServerInterceptor forwardingMarkReader() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String from = headers.get(FORWARDED_BY);
        if (from == null) {
          return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(FORWARDED_FROM, from), call, headers, next);
      }
    };
  }

  /** The WorkflowService of {@code local}, with each routed method sent to its owner. */
  ServerServiceDefinition route(ServerServiceDefinition local) {
    ServerServiceDefinition.Builder routed = ServerServiceDefinition.builder(local.getServiceDescriptor());
    for (ServerMethodDefinition<?, ?> method : local.getMethods()) {
      routed.addMethod(routed(method));
    }
    return routed.build();
  }

  private <Q, R> ServerMethodDefinition<Q, R> routed(ServerMethodDefinition<Q, R> method) {
    ToIntFunction<Object> shardOf = routes.get(method.getMethodDescriptor().getFullMethodName());
    if (shardOf == null) {
      return method;
    }
    MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
    ServerCallHandler<Q, R> local = method.getServerCallHandler();
    return ServerMethodDefinition.create(descriptor, (call, headers) -> {
      call.request(1);
      return new ServerCall.Listener<>() {
        private ServerCall.Listener<Q> here;
        private ClientCall<Q, R> forwarded;

        @Override
        public void onMessage(Q request) {
          if (here != null) {
            here.onMessage(request);
            return;
          }
          int shard = shardOf.applyAsInt(request);
          if (shard == HERE || owners.ownsHere(shard)) {
            here = local.startCall(call, headers);
            here.onMessage(request);
            return;
          }
          String from = FORWARDED_FROM.get();
          Optional<String> owner = owners.remoteOwner(shard);
          if (from != null || owner.isEmpty()) {
            call.close(Status.UNAVAILABLE.withDescription(from != null
                ? "forwarded by " + from + " to a Perdura server that does not own shard " + shard
                    + ": ownership just moved; retry"
                : "no Perdura server owns shard " + shard + " right now (it is moving); retry"), new Metadata());
            return;
          }
          try {
            forwarded = forward(descriptor, request, call, owner.get());
          } catch (IllegalStateException e) {
            // This server is shutting down: its channels to the others are closed.
            call.close(Status.UNAVAILABLE.withDescription("this Perdura server is shutting down; retry"),
                new Metadata());
          }
        }

        @Override
        public void onHalfClose() {
          if (here != null) {
            here.onHalfClose();
          }
        }

        @Override
        public void onCancel() {
          if (here != null) {
            here.onCancel();
          }
          if (forwarded != null) {
            forwarded.cancel("the caller went away", null);
          }
        }

        @Override
        public void onComplete() {
          if (here != null) {
            here.onComplete();
          }
        }

        @Override
        public void onReady() {
          if (here != null) {
            here.onReady();
          }
        }
      };
    });
  }

  private <Q, R> ClientCall<Q, R> forward(MethodDescriptor<Q, R> method, Q request, ServerCall<Q, R> call,
      String address) {
    CallOptions options = CallOptions.DEFAULT;
    Deadline deadline = Context.current().getDeadline();
    if (deadline != null) {
      options = options.withDeadline(deadline);
    }
    Metadata mark = new Metadata();
    mark.put(FORWARDED_BY, nodeId);
    ClientCall<Q, R> client = ClientInterceptors.intercept(channels.to(address),
        MetadataUtils.newAttachHeadersInterceptor(mark)).newCall(method, options);
    ClientCalls.asyncUnaryCall(client, request, new StreamObserver<>() {
      private R response;

      @Override
      public void onNext(R value) {
        response = value;
      }

      @Override
      public void onError(Throwable t) {
        Metadata trailers = Status.trailersFromThrowable(t);
        call.close(Status.fromThrowable(t), trailers == null ? new Metadata() : trailers);
      }

      @Override
      public void onCompleted() {
        call.sendHeaders(new Metadata());
        call.sendMessage(response);
        call.close(Status.OK, new Metadata());
      }
    });
    return client;
  }
}
