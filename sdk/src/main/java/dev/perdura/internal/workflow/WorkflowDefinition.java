package dev.perdura.internal.workflow;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * A registered workflow class: how to make an instance, the method that runs it, and its signal and
 * query handlers by name.
 */
public record WorkflowDefinition(
    String name, Constructor<?> constructor, Method run, Map<String, Method> signalHandlers,
    Map<String, Method> queryHandlers) {}
