package dev.perdura.activity;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method as an activity. Put it on the methods of a class, or of an interface the class
 * implements, then register an instance with the worker. The activity type name is the method name
 * unless {@link #name} says otherwise.
 *
 * <pre>{@code
 * public class Shipping {
 *   @ActivityMethod
 *   public String ship(String orderId) { ... }              // type "ship"
 *
 *   @ActivityMethod(name = "notify_customer")
 *   public CompletionStage<Void> notify(String orderId) { ... } // asynchronous: done when the stage is
 *
 *   @ActivityMethod(dynamic = true)
 *   public Object anyOther(List<RawValue> args) { ... }     // every type nobody registered
 * }
 * }</pre>
 *
 * <p>A method runs on a virtual thread (or the worker's executor). A method returning a
 * {@link java.util.concurrent.CompletionStage} is asynchronous: the activity ends when the stage
 * completes.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ActivityMethod {
  /** The activity type name; the method name when empty. Not allowed with {@link #dynamic}. */
  String name() default "";

  /**
   * When true, cancellation neither interrupts the activity's thread nor makes {@code heartbeat()}
   * throw: the activity polls {@link Activity#isCancelled()} and decides itself.
   */
  boolean noThreadCancelException() default false;

  /**
   * When true, this method runs every activity type that has no method of its own. Its one
   * parameter is {@code List<RawValue>}: the arguments, still encoded.
   */
  boolean dynamic() default false;
}
