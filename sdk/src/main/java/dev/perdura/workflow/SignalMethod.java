package dev.perdura.workflow;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method of a workflow class that handles a signal; the signal name is the method name unless
 * {@link #name} says otherwise. Handlers run as workflow code (deterministic, may block) before the
 * workflow method continues. Signals that arrive for a name with no handler are kept and delivered if
 * a handler appears.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface SignalMethod {
  String name() default "";
}
