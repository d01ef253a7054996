package dev.perdura.server.cluster;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.perdura.server.common.Errors;
import dev.perdura.server.history.HistoryService;
import dev.perdura.server.history.Peers;
import dev.perdura.server.store.ExecutionKey;
import dev.perdura.server.store.TaskRow;
import dev.perdura.server.store.TimerRow;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.workflowservice.v1.PollActivityTaskQueueResponse;
import io.temporal.api.workflowservice.v1.PollWorkflowTaskQueueResponse;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending side of {@link PeerProtocol}: {@link Peers} over gRPC, to the server that owns the
 * shard in question as the cluster's lease table last said. Calls wait at most as long as a
 * history change may take; tasks for another server's queue are sent in the background and
 * retried until that server has them.
 */
final class PeerClient implements Peers, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PeerClient.class);
  private static final long CALL_TIMEOUT_SECONDS = HistoryService.CHANGE_TIMEOUT_SECONDS;
  private static final long MAX_RETRY_DELAY_MILLIS = 2_000;

  /** Where shards are served. */
  interface Owners {
    int shardCount();

    /** The address of the other server that owns the shard, if one does as far as this server knows. */
    Optional<String> remoteOwner(int shard);

    /** Whether this server owns the shard now. */
    boolean ownsHere(int shard);

    /** Puts a task into this server's matching, which serves its queue now. */
    void addHere(TaskRow task);
  }

  private final Owners owners;
  private final Channels channels;
  private final ScheduledExecutorService retries =
      Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("peer-task-retries").daemon().factory());
  private volatile boolean closed;

  PeerClient(Owners owners, Channels channels) {
    this.owners = owners;
    this.channels = channels;
  }

  private int runShard(String namespace, String workflowId) {
    return HistoryService.runShard(namespace, workflowId, owners.shardCount());
  }

  private byte[] call(MethodDescriptor<byte[], byte[]> method, int shard, byte[] request) {
    String address = owners.remoteOwner(shard).orElseThrow(() -> Errors.unavailable(
        "no server owns history shard " + shard + " right now (it is moving); retry", null));
    return ClientCalls.blockingUnaryCall(channels.to(address), method,
        CallOptions.DEFAULT.withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS), request);
  }

  @Override
  public void addTask(TaskRow task) {
    send(task, 0);
  }

  private void send(TaskRow task, int attempt) {
    if (closed) {
      return;
    }
    int shard = HistoryService.queueShard(task.execution().namespace(), task.taskQueue(), owners.shardCount());
    if (owners.ownsHere(shard)) {
      // This server took the queue over meanwhile; its backlog as loaded may predate this task.
      try {
        owners.addHere(task);
      } catch (StatusRuntimeException e) {
        retryLater(task, attempt, e.getMessage());
      }
      return;
    }
    Optional<String> address = owners.remoteOwner(shard);
    if (address.isEmpty()) {
      retryLater(task, attempt, "no server owns its queue right now");
      return;
    }
    var future = ClientCalls.futureUnaryCall(
        channels.to(address.get()).newCall(PeerProtocol.ADD_TASK, CallOptions.DEFAULT.withDeadlineAfter(
            CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)),
        new PeerProtocol.Writer().task(task).toBytes());
    future.addListener(() -> {
      try {
        future.get();
      } catch (java.util.concurrent.ExecutionException e) {
        retryLater(task, attempt, e.getCause().getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, Runnable::run);
  }

  private void retryLater(TaskRow task, int attempt, String why) {
    if (closed) {
      return;
    }
    if (attempt == 3 || attempt % 20 == 19) {
      log.warn("task {} {} of {} for queue {} not handed over yet (attempt {}): {}; retrying", task.kind(),
          task.scheduledEventId(), task.execution(), task.taskQueue(), attempt + 1, why);
    }
    long delay = Math.min(MAX_RETRY_DELAY_MILLIS, 50L << Math.min(attempt, 6));
    try {
      retries.schedule(() -> send(task, attempt + 1), delay, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.info("task {} of {} not handed over before shutdown; its queue's owner loads it from the store",
          task.scheduledEventId(), task.execution());
    }
  }

  private static byte[] startRequest(TaskRow task, String identity, String requestId) {
    return new PeerProtocol.Writer().task(task).string(identity).string(requestId).toBytes();
  }

  private static Optional<byte[]> started(byte[] response) {
    PeerProtocol.Reader in = new PeerProtocol.Reader(response);
    return in.flag() ? Optional.of(in.bytes()) : Optional.empty();
  }

  @Override
  public Optional<PollWorkflowTaskQueueResponse> startWorkflowTask(TaskRow task, String identity, String requestId) {
    byte[] response = call(PeerProtocol.START_WORKFLOW_TASK,
        runShard(task.execution().namespace(), task.execution().workflowId()), startRequest(task, identity, requestId));
    return started(response).map(bytes -> parse(() -> PollWorkflowTaskQueueResponse.parseFrom(bytes)));
  }

  @Override
  public Optional<PollActivityTaskQueueResponse> startActivityTask(TaskRow task, String identity, String requestId) {
    byte[] response = call(PeerProtocol.START_ACTIVITY_TASK,
        runShard(task.execution().namespace(), task.execution().workflowId()), startRequest(task, identity, requestId));
    return started(response).map(bytes -> parse(() -> PollActivityTaskQueueResponse.parseFrom(bytes)));
  }

  private interface Parse<T> {
    T parse() throws InvalidProtocolBufferException;
  }

  private static <T> T parse(Parse<T> parse) {
    try {
      return parse.parse();
    } catch (InvalidProtocolBufferException e) {
      throw Errors.internal("a peer's task response is unreadable", e);
    }
  }

  @Override
  public Optional<String> startChild(ExecutionKey parent, long initiatedId, String namespace, String workflowId) {
    byte[] response = call(PeerProtocol.START_CHILD, runShard(namespace, workflowId),
        new PeerProtocol.Writer().key(parent).number(initiatedId).toBytes());
    return new PeerProtocol.Reader(response).optionalString();
  }

  @Override
  public Optional<String> deliverExternal(ExecutionKey source, long initiatedId, String namespace, String workflowId) {
    byte[] response = call(PeerProtocol.DELIVER_EXTERNAL, runShard(namespace, workflowId),
        new PeerProtocol.Writer().key(source).number(initiatedId).toBytes());
    return new PeerProtocol.Reader(response).optionalString();
  }

  @Override
  public void notifyParent(ExecutionKey child, String parentNamespace, String parentWorkflowId) {
    call(PeerProtocol.NOTIFY_PARENT, runShard(parentNamespace, parentWorkflowId),
        new PeerProtocol.Writer().key(child).toBytes());
  }

  @Override
  public void applyPolicyToChild(ExecutionKey parent, String namespace, String workflowId, String firstRunId,
      ParentClosePolicy policy) {
    call(PeerProtocol.APPLY_POLICY_TO_CHILD, runShard(namespace, workflowId), new PeerProtocol.Writer().key(parent)
        .string(namespace).string(workflowId).string(firstRunId).number(policy.getNumber()).toBytes());
  }

  @Override
  public void fireTimer(TimerRow timer) {
    try {
      call(PeerProtocol.FIRE_TIMER, runShard(timer.execution().namespace(), timer.execution().workflowId()),
          new PeerProtocol.Writer().key(timer.execution()).string(timer.timerKey()).number(timer.fireAtMillis())
              .toBytes());
    } catch (StatusRuntimeException e) {
      // Firing early is a shortcut; the timer's own row fires it at its time in any case.
      log.info("timer {} of {} not fired early at its owner: {}", timer.timerKey(), timer.execution(),
          e.getStatus());
    }
  }

  @Override
  public void close() {
    closed = true;
    retries.shutdownNow();
  }
}
