package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The rules that matter for our images: bases pinned by tag, no secrets baked in, the PyTorch natives extracted
 * at build time into the directory the runtime reads (DJL_CACHE_DIR) with the offline flag the runtime uses, and
 * the command the template runs.
 */
class DockerfileLintTest {

    static final String LAMBDA = "lambda/Dockerfile";
    static final String GPU = "infra/ecs/Dockerfile.gpu";
    static final String BRIDGE = "bridge/Dockerfile";

    /** Names that must never be baked into an image (ENV/ARG survive in the image history). */
    static final Pattern SECRET_NAME = Pattern.compile(
            "(?i).*(password|passwd|secret|token|api_?key|access_?key|credential|private_?key).*");
    static final Pattern SECRET_FILE = Pattern.compile("(?i).*(\\.aws/|\\.pem\\b|id_rsa|\\.env\\b|\\.netrc|\\.npmrc).*");
    /** AWS's dated tags of the Lambda base images: 25.YYYY.MM.DD.HH (optionally -x86_64/-arm64). */
    static final Pattern LAMBDA_BASE = Pattern.compile("public\\.ecr\\.aws/lambda/java:25\\.\\d{4}\\.\\d{2}\\.\\d{2}\\.\\d{2}(-x86_64)?");

    static Template template;

    @BeforeAll
    static void load() throws Exception {
        template = Template.load(Repo.file("template.yaml"));
    }

    static Stream<String> dockerfiles() {
        return Stream.of(LAMBDA, GPU, BRIDGE);
    }

    static Dockerfile read(String relative) throws Exception {
        Path p = Repo.file(relative);
        assertTrue(Files.exists(p), relative + " exists");
        return Dockerfile.read(p);
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void everyBaseImageIsPinnedByTag(String file) throws Exception {
        Dockerfile d = read(file);
        for (Dockerfile.Stage s : d.stages) {
            String image = d.baseImage(s);
            if (d.isStageName(image) || image.equals("scratch")) {
                continue;
            }
            assertFalse(image.contains("$"), file + ": base " + s.from() + " has no ARG default to pin it");
            boolean digest = image.contains("@sha256:");
            String afterRepo = image.substring(image.lastIndexOf('/') + 1);
            assertTrue(digest || afterRepo.contains(":"), file + ": " + image + " has no tag (means :latest)");
            String tag = digest ? "" : afterRepo.substring(afterRepo.indexOf(':') + 1);
            assertFalse(tag.equals("latest"), file + ": " + image + " is :latest; pin a release tag");
        }
    }

    /**
     * A tag with a full X.Y.Z version at its front (3.9.9-eclipse-temurin-17, 17.0.13_11-jre, 12.8.1-base-...), or
     * a digest. "3.9-..." and "17-jre" move to each new patch release: the same Dockerfile builds a different image
     * from one week to the next. (A versioned tag can still be re-pushed by its publisher; a digest cannot.)
     */
    static final Pattern FULL_VERSION_TAG = Pattern.compile("\\d+\\.\\d+\\.\\d+([._-].*)?");

    static boolean pinned(String image) {
        if (image.contains("@sha256:")) {
            return true;
        }
        String afterRepo = image.substring(image.lastIndexOf('/') + 1);
        int colon = afterRepo.indexOf(':');
        return colon >= 0 && FULL_VERSION_TAG.matcher(afterRepo.substring(colon + 1)).matches();
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void everyBaseImageTagCarriesAFullPatchVersion(String file) throws Exception {
        Dockerfile d = read(file);
        for (Dockerfile.Stage s : d.stages) {
            String image = d.baseImage(s);
            if (d.isStageName(image) || image.equals("scratch")) {
                continue;
            }
            assertTrue(pinned(image), file + ": base " + image + " floats; pin a tag with a full X.Y.Z version"
                    + " (e.g. eclipse-temurin:17.0.13_11-jre) or a digest");
        }
    }

    @Test
    void thePinRuleTellsFloatingTagsFromPinnedOnes() {
        for (String floating : List.of("eclipse-temurin", "eclipse-temurin:latest", "eclipse-temurin:17-jre",
                "maven:3.9-eclipse-temurin-17", "nvidia/cuda:12.8-base-ubuntu24.04", "localhost:5000/app",
                "registry.example.com:5000/app:1.2")) {
            assertFalse(pinned(floating), floating + " floats");
        }
        for (String fixed : List.of("eclipse-temurin:17.0.13_11-jre", "maven:3.9.9-eclipse-temurin-17",
                "nvidia/cuda:12.8.1-base-ubuntu24.04", "public.ecr.aws/lambda/java:17.2024.11.22.15",
                "registry.example.com:5000/app:1.2.3", "eclipse-temurin@sha256:" + "0".repeat(64))) {
            assertTrue(pinned(fixed), fixed + " is pinned");
        }
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void noSecretsAreBakedIn(String file) throws Exception {
        Dockerfile d = read(file);
        for (Dockerfile.Instruction i : d.instructions) {
            if (i.keyword().equals("ENV")) {
                for (String name : Dockerfile.envPairs(i).keySet()) {
                    assertFalse(SECRET_NAME.matcher(name).matches(), file + ":" + i.line() + " ENV " + name);
                }
            }
            if (i.keyword().equals("ARG")) {
                String name = i.args().split("=", 2)[0];
                assertFalse(SECRET_NAME.matcher(name).matches() && !name.endsWith("SHA256"),
                        file + ":" + i.line() + " ARG " + name + " (build args are kept in the image history)");
            }
            if (i.keyword().equals("COPY") || i.keyword().equals("ADD")) {
                assertFalse(SECRET_FILE.matcher(i.args()).matches(), file + ":" + i.line() + " copies " + i.args());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void theImageSetsOnlyTimbreVariablesTheCodeReads(String file) throws Exception {
        Dockerfile d = read(file);
        Set<String> read = EnvironmentContractTest.namesReadBy(file.equals(BRIDGE)
                ? "bridge/src/main/java/dev/timbre/bridge/config" : "core/src/main/java/dev/timbre/config");
        for (String name : d.env(d.finalStage().index()).keySet()) {
            if (name.startsWith("TIMBRE_")) {
                assertTrue(read.contains(name), file + " sets " + name + ", which the code never reads");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void theMavenJvmConfigIsCopiedBeforeMavenRuns(String file) throws Exception {
        // .mvn/jvm.config opens javac's internals to Error Prone on Java 17+; without it every compile in the
        // image fails (IllegalAccessError from the ErrorProne plugin)
        assertTrue(Files.exists(Repo.file(".mvn/jvm.config")), ".mvn/jvm.config exists");
        Dockerfile d = read(file);
        for (Dockerfile.Stage stage : d.stages) {
            boolean copied = false;
            for (Dockerfile.Instruction i : d.instructions) {
                if (i.stage() != stage.index()) {
                    continue;
                }
                if (i.keyword().equals("COPY") && i.args().matches("(?s)(.*\\s)?\\.mvn/?\\s.*")) {
                    copied = true;
                }
                if (i.keyword().equals("RUN") && i.args().matches("(?s).*\\bmvn\\b.*")) {
                    assertTrue(copied, file + ":" + i.line() + " runs Maven before copying .mvn/");
                    break;
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dockerfiles")
    void everyReactorModulePomIsCopiedBeforeMavenRuns(String file) throws Exception {
        // Maven reads every <module> of the parent pom, even with -pl: a module pom missing from the build
        // context fails the image build ("Child module ... does not exist").
        Dockerfile d = read(file);
        String pom = Files.readString(Repo.file("pom.xml"));
        // the default reactor, plus the modules of profiles that activate themselves (such as system-tests,
        // active unless tests are skipped entirely); not those of profiles chosen with -P (bench)
        StringBuilder reactor = new StringBuilder(between(pom, "<modules>", "</modules>"));
        java.util.regex.Matcher profile = Pattern.compile("(?s)<profile>(.*?)</profile>").matcher(pom);
        while (profile.find()) {
            if (profile.group(1).contains("<activation>")) {
                reactor.append(profile.group(1));
            }
        }
        java.util.regex.Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(reactor);
        List<String> modules = new ArrayList<>();
        while (m.find()) {
            modules.add(m.group(1).strip());
        }
        assertTrue(modules.contains("system-tests"), "modules read from pom.xml: " + modules);
        for (Dockerfile.Stage stage : d.stages) {
            List<Dockerfile.Instruction> copies = new ArrayList<>();
            for (Dockerfile.Instruction i : d.instructions) {
                if (i.stage() != stage.index()) {
                    continue;
                }
                if (i.keyword().equals("RUN") && i.args().matches("(?s).*\\bmvn\\b.*")) {
                    for (String module : modules) {
                        assertTrue(copies.stream().anyMatch(c -> c.args().contains(module + "/pom.xml")),
                                file + ":" + i.line() + " runs Maven before copying " + module + "/pom.xml");
                    }
                    break;
                }
                if (i.keyword().equals("COPY")) {
                    copies.add(i);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.timbre.deploy.DockerfileLintTest#functionImages")
    void resourceFoldersTheFunctionsPomReadsFromOutsideTheModuleAreCopied(String file) throws Exception {
        // A resource directory missing from the build context is skipped silently by Maven: the jar would lack it.
        Dockerfile d = read(file);
        String pom = Files.readString(Repo.file("core/pom.xml"));
        java.util.regex.Matcher m = Pattern.compile("<directory>\\$\\{project\\.basedir}/\\.\\./([^<]+)</directory>").matcher(pom);
        while (m.find()) {
            String dir = m.group(1).replaceAll("/$", "");
            assertTrue(d.instructions.stream().anyMatch(i -> i.keyword().equals("COPY")
                    && i.args().matches("(?s).*\\b" + Pattern.quote(dir) + "/?\\s+.*")),
                    file + " copies " + dir + " (a resource folder of core/pom.xml)");
        }
    }

    @Test
    void theBridgeHealthCheckToolIsInTheBridgeImage() throws Exception {
        Dockerfile d = read(BRIDGE);
        Map<String, Object> container = Template.map(((List<?>) template.properties("BridgeTaskDefinition")
                .get("ContainerDefinitions")).get(0), "bridge");
        String check = String.valueOf(container.get("HealthCheck"));
        if (check.contains("curl")) {
            String base = d.baseImage(d.finalStage());
            boolean installs = d.inStage(d.finalStage().index(), "RUN").stream().anyMatch(i -> i.args().contains("curl"));
            // Adoptium's Ubuntu-based eclipse-temurin images install curl ("required for historical reasons",
            // adoptium/containers#255); the Alpine ones do not.
            boolean temurinUbuntu = base.startsWith("eclipse-temurin:") && !base.contains("alpine");
            assertTrue(installs || temurinUbuntu, "the health check runs curl, which " + base + " may not have");
        }
        String port = String.valueOf(d.env(d.finalStage().index()).get("TIMBRE_BRIDGE_HTTP_PORT"));
        Object templatePort = Template.map(template.section("Parameters").get("BridgeHealthPort"), "port").get("Default");
        assertEquals(String.valueOf(templatePort), port, "the image's and the template's health port agree");
    }

    @Nested
    class NativesAndOffline {

        @ParameterizedTest
        @MethodSource("dev.timbre.deploy.DockerfileLintTest#functionImages")
        void nativesAreExtractedAtBuildTimeIntoTheDirectoryTheRuntimeReads(String file) throws Exception {
            Dockerfile d = read(file);
            int last = d.finalStage().index();
            Map<String, String> env = d.env(last);
            String cache = env.get("DJL_CACHE_DIR");
            assertNotNull(cache, file + ": ENV DJL_CACHE_DIR in the final stage");
            assertTrue(cache.startsWith("/opt/"), file + ": cache " + cache + " must not be under /tmp (Lambda's is empty at start)");

            // The RUN that starts the engine must come after the ENV that sets the directory, in the final stage,
            // and no later ENV may move it.
            int envLine = -1;
            int prepareLine = -1;
            for (Dockerfile.Instruction i : d.instructions) {
                if (i.stage() != last) {
                    continue;
                }
                if (i.keyword().equals("ENV") && Dockerfile.envPairs(i).containsKey("DJL_CACHE_DIR")) {
                    assertTrue(prepareLine < 0, file + ":" + i.line() + " moves DJL_CACHE_DIR after the extraction");
                    envLine = i.line();
                }
                if (i.keyword().equals("RUN") && i.args().contains("PrepareNatives")) {
                    prepareLine = i.line();
                    assertTrue(Pattern.compile("chmod -R a\\+rX[^&;]* " + Pattern.quote(cache) + "(\\s|$)")
                                    .matcher(i.args()).find(),
                            file + ": the extracted natives are made readable for the runtime user: " + i.args());
                }
            }
            assertTrue(prepareLine > envLine && envLine > 0, file + ": PrepareNatives runs after ENV DJL_CACHE_DIR");
            assertTrue(Files.exists(Repo.file("infra/image/PrepareNatives.java")));
        }

        @ParameterizedTest
        @MethodSource("dev.timbre.deploy.DockerfileLintTest#functionImages")
        void djlRunsOfflineWithTheSameFlagsAtBuildAndRunTime(String file) throws Exception {
            Dockerfile d = read(file);
            Map<String, String> env = d.env(d.finalStage().index());
            String options = env.getOrDefault("JAVA_TOOL_OPTIONS", "");
            assertTrue(options.contains("-Dai.djl.offline=true"), file + ": JAVA_TOOL_OPTIONS has -Dai.djl.offline=true");
            assertEquals("true", env.get("DJL_OFFLINE"), file + ": DJL_OFFLINE=true");
            assertFalse(env.containsKey("PYTORCH_VERSION") && !file.equals(GPU),
                    file + ": PYTORCH_VERSION forces a download path on the CPU image");
        }

        @ParameterizedTest
        @MethodSource("dev.timbre.deploy.DockerfileLintTest#functionImages")
        void libtorchLogsErrorsOnlySoStderrNeverMixesNativeWarningsIntoTheLogs(String file) throws Exception {
            // libtorch's warnings bypass logback (file descriptor 2, glog format); on some CPUs one per convolution
            Map<String, String> env = read(file).env(read(file).finalStage().index());
            assertEquals("ERROR", env.get("TORCH_CPP_LOG_LEVEL"), file + ": ENV TORCH_CPP_LOG_LEVEL=ERROR");
        }
    }

    static Stream<String> functionImages() {
        return Stream.of(LAMBDA, GPU);
    }

    @Nested
    class LambdaImage {

        @Test
        void buildsOnADatedLambdaJava25BaseTag() throws Exception {
            Dockerfile d = read(LAMBDA);
            String base = d.baseImage(d.finalStage());
            assertTrue(LAMBDA_BASE.matcher(base).matches(), base + " is a dated public.ecr.aws/lambda/java:25 tag");
        }

        @Test
        void layoutIsClassesInTaskRootAndJarsInLib() throws Exception {
            Dockerfile d = read(LAMBDA);
            String copies = d.inStage(d.finalStage().index(), "COPY").toString();
            assertTrue(copies.contains("lambda/target/classes/ ${LAMBDA_TASK_ROOT}/"), copies);
            assertTrue(copies.contains("lambda/target/lib/ ${LAMBDA_TASK_ROOT}/lib/"), copies);
        }

        @Test
        void copiesOnlyTheLambdaModulesClassPathNotAnExcludeList() throws Exception {
            // the allow-list: lambda/target/lib is the module's runtime class path (DeployableClassPathTest checks
            // what is on it); nothing is removed after the build, so a new jar cannot slip past a list of globs
            Dockerfile d = read(LAMBDA);
            String copies = d.inStage(d.finalStage().index(), "COPY").toString();
            for (String other : List.of("core/target", "cli/target", "worker/target", "embedded/target")) {
                assertFalse(copies.contains(other), "the image copies " + other + ": " + copies);
            }
            assertFalse(d.instructions.stream().anyMatch(i -> i.keyword().equals("RUN") && i.args().contains("rm ")
                    && i.args().contains("target/lib")), "nothing is removed from lib/");
        }

        @Test
        void cmdIsTheHandlerTheTemplateNames() throws Exception {
            assertEquals(List.of(HandlerContract.handlerOf(template)), read(LAMBDA).cmd());
        }

        @Test
        void imageConverterDirIsTheTemplatesDefault() throws Exception {
            Dockerfile d = read(LAMBDA);
            Object def = Template.map(template.section("Parameters").get("ConverterDir"), "ConverterDir").get("Default");
            assertEquals(def, d.env(d.finalStage().index()).get("TIMBRE_CONVERTER_DIR"));
        }
    }

    @Test
    void bothImagesExportTheLaunchersMallocSettings() throws Exception {
        // glibc reads these at process start; an image without them runs the worker with other native memory
        // behaviour than ./timbre and the benchmarks (docs/operations.md, "Native memory")
        Map<String, String> launcher = new TreeMap<>();
        Matcher m = Pattern.compile("(MALLOC_[A-Z_]+)=\"\\$\\{\\1:-(\\d+)}\"")
                .matcher(Files.readString(Repo.file("timbre")));
        while (m.find()) {
            launcher.put(m.group(1), m.group(2));
        }
        assertEquals(Set.of("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"),
                launcher.keySet(), "the launcher's malloc defaults");
        for (String image : List.of(LAMBDA, GPU)) {
            Dockerfile d = read(image);
            Map<String, String> env = d.env(d.finalStage().index());
            for (Map.Entry<String, String> e : launcher.entrySet()) {
                assertEquals(e.getValue(), env.get(e.getKey()), image + " sets " + e.getKey() + " as ./timbre does");
            }
        }
    }

    @Nested
    class GpuImage {

        @Test
        void pointsDjlAtTheCudaLibtorchOfTheVersionThePomPins() throws Exception {
            Dockerfile d = read(GPU);
            Map<String, String> env = d.env(d.finalStage().index());
            String pom = Files.readString(Repo.file("pom.xml"));
            String version = between(pom, "<pytorch.native.version>", "</pytorch.native.version>");
            String jni = between(pom, "<pytorch.jni.version>", "</pytorch.jni.version>");
            assertEquals(version, env.get("PYTORCH_VERSION"), "PYTORCH_VERSION = pom's pytorch.native.version");
            assertTrue(jni.startsWith(version + "-"), "pytorch-jni " + jni + " is built for libtorch " + version);
            String flavor = env.get("PYTORCH_FLAVOR");
            assertTrue(flavor != null && flavor.matches("cu\\d+"), "PYTORCH_FLAVOR is a CUDA flavor: " + flavor);
            String url = d.instructions.stream().filter(i -> i.keyword().equals("ARG") && i.args().startsWith("LIBTORCH_URL="))
                    .findFirst().orElseThrow().args();
            assertTrue(url.contains("/" + flavor + "/") && url.contains(version + "%2B" + flavor), url);
            String copies = d.inStage(d.finalStage().index(), "COPY").toString();
            assertTrue(copies.contains(env.get("PYTORCH_LIBRARY_PATH")), "libtorch is copied to PYTORCH_LIBRARY_PATH");
        }

        @Test
        void hasTheCurlTheWorkerHealthCheckRuns() throws Exception {
            Dockerfile d = read(GPU);
            assertTrue(d.inStage(d.finalStage().index(), "RUN").stream()
                    .anyMatch(i -> i.args().matches("(?s).*apt-get install[^&]*\\bcurl\\b.*")), "curl installed");
        }

        @Test
        void runsTheWorkerCommandTheTemplateRunsAsANonRootUser() throws Exception {
            Dockerfile d = read(GPU);
            Map<String, Object> container = Template.map(((List<?>) template.properties("WorkerTaskDefinition")
                    .get("ContainerDefinitions")).get(0), "worker");
            assertEquals(container.get("Command"), d.cmd());
            assertFalse(d.inStage(d.finalStage().index(), "USER").isEmpty(), "USER set");
            String copies = d.inStage(d.finalStage().index(), "COPY").toString();
            assertTrue(copies.contains("worker/target/classes/ /opt/timbre/classes/")
                    && copies.contains("worker/target/lib/ /opt/timbre/lib/"), "the worker module's class path: " + copies);
            for (String other : List.of("core/target", "cli/target", "lambda/target", "embedded/target", "timbre ")) {
                assertFalse(copies.contains(other), "the image copies " + other + ": " + copies);
            }
        }
    }

    private static String between(String text, String a, String b) {
        int i = text.indexOf(a);
        return text.substring(i + a.length(), text.indexOf(b, i));
    }
}
