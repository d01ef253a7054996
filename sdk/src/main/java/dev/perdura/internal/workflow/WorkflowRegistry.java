package dev.perdura.internal.workflow;

import dev.perdura.workflow.QueryMethod;
import dev.perdura.workflow.SignalMethod;
import dev.perdura.workflow.WorkflowMethod;
import java.lang.annotation.Annotation;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The workflow classes a worker runs, by type name, read from {@link WorkflowMethod},
 * {@link SignalMethod} and {@link QueryMethod} annotations on the class, its superclasses and its interfaces.
 */
public final class WorkflowRegistry {
  private final Map<String, WorkflowDefinition> byName = new LinkedHashMap<>();

  public synchronized void register(Class<?> type) {
    if (type.isInterface() || Modifier.isAbstract(type.getModifiers())) {
      throw new IllegalArgumentException(type.getName() + " is not a concrete class; register the implementation");
    }
    Constructor<?> constructor;
    try {
      constructor = type.getConstructor();
    } catch (NoSuchMethodException e) {
      throw new IllegalArgumentException("workflow class " + type.getName() + " needs a public no-argument constructor");
    }
    Method run = null;
    String name = null;
    Map<String, Method> signals = new LinkedHashMap<>();
    Map<String, Method> queries = new LinkedHashMap<>();
    for (Method method : type.getMethods()) {
      if (method.isBridge() || method.isSynthetic()) {
        continue;
      }
      Optional<Found<WorkflowMethod>> workflowMethod = find(type, method, WorkflowMethod.class);
      if (workflowMethod.isPresent()) {
        if (run != null) {
          throw new IllegalArgumentException("workflow class " + type.getName() + " has two @WorkflowMethod methods: "
              + run.getName() + " and " + method.getName());
        }
        run = method;
        String declared = workflowMethod.get().annotation().name();
        name = declared.isEmpty() ? workflowMethod.get().declaringType().getSimpleName() : declared;
      }
      Optional<Found<SignalMethod>> signal = find(type, method, SignalMethod.class);
      if (signal.isPresent()) {
        String signalName = signal.get().annotation().name().isEmpty() ? method.getName() : signal.get().annotation().name();
        if (signals.put(signalName, method) != null) {
          throw new IllegalArgumentException("workflow class " + type.getName() + " handles signal '" + signalName
              + "' twice");
        }
      }
      Optional<Found<QueryMethod>> query = find(type, method, QueryMethod.class);
      if (query.isPresent()) {
        String queryName = query.get().annotation().name().isEmpty() ? method.getName() : query.get().annotation().name();
        if (queries.put(queryName, method) != null) {
          throw new IllegalArgumentException("workflow class " + type.getName() + " answers query '" + queryName
              + "' twice");
        }
      }
    }
    if (run == null) {
      throw new IllegalArgumentException(type.getName() + " has no method annotated @WorkflowMethod");
    }
    if (byName.containsKey(name)) {
      throw new IllegalArgumentException("workflow type '" + name + "' is registered twice (again by "
          + type.getName() + ")");
    }
    byName.put(name, new WorkflowDefinition(name, constructor, run, Map.copyOf(signals), Map.copyOf(queries)));
  }

  public synchronized Optional<WorkflowDefinition> lookup(String type) {
    return Optional.ofNullable(byName.get(type));
  }

  public synchronized Set<String> names() {
    return new TreeSet<>(byName.keySet());
  }

  public synchronized boolean isEmpty() {
    return byName.isEmpty();
  }

  private record Found<A extends Annotation>(A annotation, Class<?> declaringType) {}

  /** The annotation on the method or on a method it implements, and the type that declares it. */
  private static <A extends Annotation> Optional<Found<A>> find(Class<?> type, Method method, Class<A> annotation) {
    Deque<Class<?>> todo = new ArrayDeque<>();
    todo.add(type);
    while (!todo.isEmpty()) {
      Class<?> current = todo.poll();
      try {
        Method candidate = current.getDeclaredMethod(method.getName(), method.getParameterTypes());
        A found = candidate.getAnnotation(annotation);
        if (found != null) {
          return Optional.of(new Found<>(found, current));
        }
      } catch (NoSuchMethodException e) {
        // not declared here; look further up
      }
      todo.addAll(java.util.List.of(current.getInterfaces()));
      if (current.getSuperclass() != null) {
        todo.add(current.getSuperclass());
      }
    }
    return Optional.empty();
  }
}
