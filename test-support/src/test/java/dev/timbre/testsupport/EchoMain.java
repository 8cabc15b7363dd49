package dev.timbre.testsupport;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The child {@link ChildJvmTest} starts: prints its arguments, a variable and a system property on stdout, a line
 * on stderr, then either exits with the status in its first argument or, given "wait", sleeps until stdin closes.
 */
public final class EchoMain {

    private EchoMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("args=" + String.join(",", args));
        System.out.println("env=" + System.getenv("CHILD_JVM_TEST"));
        System.out.println("prop=" + System.getProperty("ai.djl.offline"));
        System.out.println("ready");
        System.out.flush();
        System.err.println("to stderr");
        if (args.length > 0 && args[0].equals("wait")) {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                while (in.readLine() != null) {
                    // until stdin closes or the process is killed
                }
            }
            Thread.sleep(Long.MAX_VALUE);
        }
        System.exit(args.length > 0 ? Integer.parseInt(args[0]) : 0);
    }
}
