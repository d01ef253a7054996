package dev.perdura.workflow;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the method that runs a workflow: one per workflow class (or on an interface it implements).
 * The workflow type name is the class's simple name (the interface's when annotated there) unless
 * {@link #name} says otherwise. A new instance of the class runs each workflow execution, so fields
 * hold the workflow's state.
 *
 * <pre>{@code
 * public class GreetingWorkflow {
 *   @WorkflowMethod
 *   public String run(String name) {
 *     return Workflow.executeActivity("compose_greeting", String.class, OPTIONS, name);
 *   }
 * }
 * }</pre>
 *
 * <p>Workflow code must be deterministic: it is replayed from history. Use {@link Workflow}'s time,
 * sleep, wait and randomness instead of the JDK's, and do I/O in activities.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface WorkflowMethod {
  /** The workflow type name; the class's (or interface's) simple name when empty. */
  String name() default "";
}
