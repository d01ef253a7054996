package dev.perdura.internal.activity;

import dev.perdura.activity.ActivityMethod;
import dev.perdura.common.RawValue;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The activities a worker runs, by type name, read from {@link ActivityMethod} annotations on an
 * implementation's class, its superclasses and its interfaces. Registration fails at once, with the
 * reason, on a duplicate name, a dynamic activity with a name, or a bad dynamic signature.
 */
public final class ActivityRegistry {
  private final Map<String, ActivityDefinition> byName = new LinkedHashMap<>();
  private ActivityDefinition dynamic;

  public synchronized void register(Object implementation) {
    Map<String, ActivityDefinition> found = new LinkedHashMap<>();
    ActivityDefinition foundDynamic = null;
    for (Method method : annotatedMethods(implementation.getClass())) {
      ActivityMethod annotation = annotationOf(implementation.getClass(), method);
      String where = implementation.getClass().getName() + "." + method.getName();
      if (!Modifier.isPublic(method.getModifiers())) {
        throw new IllegalArgumentException("activity method " + where + " must be public");
      }
      if (annotation.dynamic()) {
        if (!annotation.name().isEmpty()) {
          throw new IllegalArgumentException("activity method " + where + " is dynamic and has a name; a dynamic"
              + " activity runs every unregistered type, so it cannot have one");
        }
        if (!isRawValueList(method)) {
          throw new IllegalArgumentException("dynamic activity method " + where
              + " must take exactly one parameter of type List<RawValue>");
        }
        if (foundDynamic != null || dynamic != null) {
          throw new IllegalArgumentException("a second dynamic activity: " + where);
        }
        foundDynamic = new ActivityDefinition("", implementation, method, annotation.noThreadCancelException(), true);
        continue;
      }
      String name = annotation.name().isEmpty() ? method.getName() : annotation.name();
      if (found.containsKey(name) || byName.containsKey(name)) {
        throw new IllegalArgumentException("activity type '" + name + "' is registered twice (again by " + where + ")");
      }
      found.put(name, new ActivityDefinition(name, implementation, method, annotation.noThreadCancelException(), false));
    }
    if (found.isEmpty() && foundDynamic == null) {
      throw new IllegalArgumentException(implementation.getClass().getName()
          + " has no method annotated @ActivityMethod (on the class or the interfaces it implements)");
    }
    byName.putAll(found);
    if (foundDynamic != null) {
      dynamic = foundDynamic;
    }
  }

  /** The definition for a type: its own, else the dynamic one. */
  public synchronized Optional<ActivityDefinition> lookup(String type) {
    ActivityDefinition definition = byName.get(type);
    return Optional.ofNullable(definition != null ? definition : dynamic);
  }

  public synchronized Set<String> names() {
    return new TreeSet<>(byName.keySet());
  }

  public synchronized boolean isEmpty() {
    return byName.isEmpty() && dynamic == null;
  }

  private static boolean isRawValueList(Method method) {
    if (method.getParameterCount() != 1 || !List.class.equals(method.getParameterTypes()[0])) {
      return false;
    }
    return method.getGenericParameterTypes()[0] instanceof ParameterizedType p
        && p.getActualTypeArguments()[0].equals(RawValue.class);
  }

  /**
   * Public methods carrying the annotation, on the class or on a method it overrides; an annotation
   * on an interface method applies to the implementing class's method.
   */
  private static List<Method> annotatedMethods(Class<?> type) {
    Set<Method> result = new LinkedHashSet<>();
    for (Method method : type.getMethods()) {
      if (method.isBridge() || method.isSynthetic()) {
        continue;
      }
      if (method.isAnnotationPresent(ActivityMethod.class)) {
        result.add(method);
        continue;
      }
      declaredOnSupertypes(type, method).ifPresent(annotated -> result.add(method));
    }
    return List.copyOf(result);
  }

  private static Optional<Method> declaredOnSupertypes(Class<?> type, Method method) {
    Deque<Class<?>> todo = new ArrayDeque<>();
    todo.add(type);
    while (!todo.isEmpty()) {
      Class<?> current = todo.poll();
      for (Class<?> parent : current.getInterfaces()) {
        todo.add(parent);
      }
      if (current.getSuperclass() != null) {
        todo.add(current.getSuperclass());
      }
      try {
        Method candidate = current.getDeclaredMethod(method.getName(), method.getParameterTypes());
        if (candidate.isAnnotationPresent(ActivityMethod.class)) {
          return Optional.of(candidate);
        }
      } catch (NoSuchMethodException e) {
        // not declared here; keep looking up the hierarchy
      }
    }
    return Optional.empty();
  }

  /** The annotation that applies to a method found by {@link #register}. */
  static ActivityMethod annotationOf(Class<?> type, Method method) {
    ActivityMethod direct = method.getAnnotation(ActivityMethod.class);
    return direct != null ? direct
        : declaredOnSupertypes(type, method).map(m -> m.getAnnotation(ActivityMethod.class)).orElseThrow();
  }
}
