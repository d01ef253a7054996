package dev.perdura.internal.activity;

import java.lang.reflect.Method;

/**
 * One registered activity: the method to call and on what.
 *
 * @param name the activity type name; empty for the dynamic activity
 */
public record ActivityDefinition(
    String name, Object target, Method method, boolean noThreadCancelException, boolean dynamic) {}
