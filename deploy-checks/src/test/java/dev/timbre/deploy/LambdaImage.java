package dev.timbre.deploy;

import dev.timbre.testsupport.ChildJvm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * The function image rebuilt on the local disk, as lambda/Dockerfile lays it out: the lambda module's classes at
 * the task root, its runtime class path (core and its libraries, nothing else) in {@code lib/}, the runtime
 * interface client on the system class path (what the base
 * image keeps in /var/runtime/lib), the natives pre-extracted by PrepareNatives into the image's DJL_CACHE_DIR,
 * and the image's ENV. Paths under /opt are mapped into the test's work folder.
 */
final class LambdaImage {

    static final String RIC_MAIN = "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";

    final Path taskRoot;
    final Path cacheDir;
    final Path runtimeLib;
    final Map<String, String> imageEnv;

    private LambdaImage(Path taskRoot, Path cacheDir, Path runtimeLib, Map<String, String> imageEnv) {
        this.taskRoot = taskRoot;
        this.cacheDir = cacheDir;
        this.runtimeLib = runtimeLib;
        this.imageEnv = imageEnv;
    }

    /** Lays out /var/task from the function's runtime class path (Maven writes it to function-classpath.txt). */
    static LambdaImage build() throws Exception {
        Path work = Repo.work("lambda-image");
        Path taskRoot = work.resolve("var-task");
        deleteTree(taskRoot);
        Files.createDirectories(taskRoot.resolve("lib"));
        Path classpathFile = Path.of(System.getProperty("timbre.function.classpath",
                Repo.root().resolve("deploy-checks/target/function-classpath.txt").toString()));
        for (String entry : Files.readString(classpathFile).split("[" + java.io.File.pathSeparator + "\\n]")) {
            if (entry.isBlank()) {
                continue;
            }
            Path p = Path.of(entry.strip());
            if (Files.isDirectory(p)) {
                // COPY lambda/target/classes/ ${LAMBDA_TASK_ROOT}/ (before `package` Maven hands over core's
                // classes folder too, not its jar: the same classes, at the task root instead of in lib/)
                copyTree(p, taskRoot);
            } else if (p.getFileName().toString().startsWith("timbre-lambda-")) {
                unzip(p, taskRoot); // after `package` (mvn verify) Maven hands over the module's jar, not its classes
            } else if (p.toString().endsWith(".jar")) {
                // COPY lambda/target/lib/ ${LAMBDA_TASK_ROOT}/lib/ (a link: same bytes, no 120 MB copy)
                Files.createSymbolicLink(taskRoot.resolve("lib").resolve(p.getFileName()), p);
            }
        }
        if (!Files.exists(taskRoot.resolve("dev/timbre/lambda"))) {
            throw new IllegalStateException("the function's classes are not on " + classpathFile);
        }
        Path runtimeLib = Path.of(System.getProperty("timbre.lambda.runtime",
                Repo.root().resolve("deploy-checks/target/lambda-runtime").toString()));

        Dockerfile dockerfile = Dockerfile.read(Repo.file(DockerfileLintTest.LAMBDA));
        Map<String, String> env = new LinkedHashMap<>();
        Path cacheDir = work.resolve("opt-djl-cache");
        dockerfile.env(dockerfile.finalStage().index()).forEach((k, v) -> env.put(k, mapImagePath(v, cacheDir)));
        return new LambdaImage(taskRoot, cacheDir, runtimeLib, env);
    }

    private static String mapImagePath(String value, Path cacheDir) {
        return value.replace("/opt/djl-cache", cacheDir.toString())
                .replace("/opt/timbre/converter", Repo.file("infra/model/fixtures/converter").toString());
    }

    /**
     * The Dockerfile's {@code RUN java ... PrepareNatives}: compiles infra/image/PrepareNatives.java against lib/
     * and runs it with the image's ENV. Skipped when a previous run left the natives in place.
     *
     * @return what PrepareNatives printed, or null when the cache was already there
     */
    String prepareNatives() throws Exception {
        Path marker = cacheDir.resolve(".prepared");
        if (Files.exists(marker)) {
            return null;
        }
        Path classes = Repo.work("lambda-image").resolve("prepare");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        String jars; // the compiler API does not expand "lib/*" as the javac launcher does
        try (Stream<Path> lib = Files.list(taskRoot.resolve("lib"))) {
            jars = String.join(java.io.File.pathSeparator, lib.map(Path::toString).sorted().toList());
        }
        int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", jars,
                Repo.file("infra/image/PrepareNatives.java").toString());
        if (rc != 0) {
            throw new IllegalStateException("javac PrepareNatives failed: " + rc);
        }
        Path log = Repo.work("lambda-image").resolve("prepare-natives.log");
        try (ChildJvm.Running p = ChildJvm.main("PrepareNatives").classPath(classes + ":" + taskRoot.resolve("lib")
                + "/*").cleanEnv().env(baseEnv()).env(imageEnv).outputTo(log).start()) {
            if (!p.process().waitFor(5, TimeUnit.MINUTES) || p.process().exitValue() != 0) {
                throw new IllegalStateException("PrepareNatives failed: " + Files.readString(log));
            }
        }
        Files.writeString(marker, "ok\n");
        return Files.readString(log);
    }

    /**
     * Starts the runtime interface client as the base image's entry point does, with the image's ENV, the given
     * function environment (the template's variables) and the Runtime API address. Output goes to {@code log}.
     */
    Process startRuntime(String handler, Map<String, String> functionEnv, String runtimeApi, Path log)
            throws IOException {
        Map<String, String> env = new LinkedHashMap<>(baseEnv());
        env.putAll(imageEnv);
        // What Lambda sets for every function (configuration-envvars.html, "Reserved environment variables")
        env.put("AWS_LAMBDA_RUNTIME_API", runtimeApi);
        env.put("LAMBDA_TASK_ROOT", taskRoot.toString());
        env.put("_HANDLER", handler);
        env.put("AWS_LAMBDA_FUNCTION_NAME", "timbre-voice-embedding");
        env.put("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3538");
        env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/timbre-voice-embedding");
        env.put("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/29/[$LATEST]0123456789abcdef");
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_DEFAULT_REGION", "us-east-1");
        env.put("AWS_EXECUTION_ENV", "AWS_Lambda_java25");
        env.put("TZ", ":UTC");
        env.putAll(functionEnv);
        // the image's class path and exactly these variables; SIGKILLed if the test JVM exits before stopping it
        return ChildJvm.main(RIC_MAIN).classPath(runtimeLib + "/*").args(handler).directory(taskRoot).cleanEnv()
                .env(env).outputTo(log).start().process();
    }

    private static Map<String, String> baseEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("HOME", System.getProperty("java.io.tmpdir"));
        env.put("LANG", "C.UTF-8");
        return env;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            files.forEach(src -> {
                try {
                    Path dst = to.resolve(from.relativize(src).toString());
                    if (Files.isDirectory(src)) {
                        Files.createDirectories(dst);
                    } else {
                        Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    static void unzip(Path jar, Path to) throws IOException {
        try (java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(Files.newInputStream(jar))) {
            for (java.util.zip.ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                Path dst = to.resolve(e.getName()).normalize();
                if (!dst.startsWith(to)) {
                    throw new IOException("entry outside the target: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(dst);
                } else {
                    Files.createDirectories(dst.getParent());
                    Files.copy(in, dst, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
