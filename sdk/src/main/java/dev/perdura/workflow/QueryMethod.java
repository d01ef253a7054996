package dev.perdura.workflow;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method of a workflow class that answers a query; the query type is the method name unless
 * {@link #name} says otherwise. A query handler reads workflow state and returns it: it must not change
 * state, block, or call {@link Workflow} methods.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface QueryMethod {
  String name() default "";
}
