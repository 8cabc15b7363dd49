package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Map;

/** What the runtime interface client needs from the class named in the template's ImageConfig.Command. */
final class HandlerContract {

    private HandlerContract() {
    }

    /** {@code pkg.Class::method} from the function's ImageConfig.Command (what the image's CMD is overridden by). */
    static String handlerOf(Template template) {
        Map<String, Object> imageConfig = Template.map(
                template.properties(TemplateRulesTest.FUNCTION).get("ImageConfig"), "ImageConfig");
        List<?> command = (List<?>) imageConfig.get("Command");
        assertEquals(1, command.size(), "ImageConfig.Command is the single handler argument of the RIC");
        return String.valueOf(command.get(0));
    }

    static void assertSqsBatchHandler(String handler) {
        String className = handler.contains("::") ? handler.substring(0, handler.indexOf("::")) : handler;
        String method = handler.contains("::") ? handler.substring(handler.indexOf("::") + 2) : "handleRequest";
        Class<?> c;
        try {
            // initialize=false: the static init of a handler may connect to the database; only the shape matters here
            c = Class.forName(className, false, HandlerContract.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            fail("handler class " + className + " is not in the lambda module's classes");
            return;
        }
        assertTrue(Modifier.isPublic(c.getModifiers()) && !Modifier.isAbstract(c.getModifiers()),
                className + " is a public concrete class");
        try {
            assertTrue(Modifier.isPublic(c.getConstructor().getModifiers()), "public no-argument constructor");
        } catch (NoSuchMethodException e) {
            fail(className + " needs a public no-argument constructor: the RIC instantiates it reflectively");
        }
        assertTrue(RequestHandler.class.isAssignableFrom(c), className + " implements RequestHandler");
        Type[] args = requestHandlerTypeArguments(c);
        assertEquals(SQSEvent.class, args[0], "RequestHandler input type");
        assertEquals(SQSBatchResponse.class, args[1], "RequestHandler output type (partial batch responses)");
        try {
            Method m = c.getMethod(method, SQSEvent.class, Context.class);
            assertEquals(SQSBatchResponse.class, m.getReturnType());
        } catch (NoSuchMethodException e) {
            fail(className + " has no public " + method + "(SQSEvent, Context)");
        }
    }

    private static Type[] requestHandlerTypeArguments(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Type t : k.getGenericInterfaces()) {
                if (t instanceof ParameterizedType p && p.getRawType() == RequestHandler.class) {
                    return p.getActualTypeArguments();
                }
            }
        }
        fail(c.getName() + " implements the raw RequestHandler; declare RequestHandler<SQSEvent, SQSBatchResponse>");
        return new Type[0];
    }
}
