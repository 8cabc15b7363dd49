package dev.timbre.hostile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed corpus under {@code src/test/resources/hostile/} is exactly what {@link HostileCorpus} builds,
 * so the files and their expectations cannot drift apart. To change the corpus, edit {@link HostileCorpus} and
 * run this test with {@code -Dtimbre.hostile.write=true}; it rewrites the folder first.
 */
class HostileCorpusTest {

    @Test
    void committedCorpusIsWhatTheGeneratorBuilds() throws IOException {
        if (Boolean.getBoolean("timbre.hostile.write")) {
            HostileCorpus.write(HostileCorpus.ROOT);
        }
        check(HostileCorpus.ROOT.resolve("audio"), HostileCorpus.audio(), 40);
        check(HostileCorpus.ROOT.resolve("messages"), HostileCorpus.messages(), 20);
    }

    private static void check(Path dir, List<HostileCorpus.Case> generated, int atLeast) throws IOException {
        assertTrue(generated.size() >= atLeast, dir + ": at least " + atLeast + " cases, has " + generated.size());
        assertEquals(HostileCorpus.manifest(generated), Files.readString(dir.resolve("manifest.json")),
                dir + "/manifest.json is stale: rerun with -Dtimbre.hostile.write=true");
        for (HostileCorpus.Case c : generated) {
            assertArrayEquals(c.bytes(), Files.readAllBytes(dir.resolve(c.file())), dir + "/" + c.file());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(generated.size() + 1, files.count(), dir + " holds only the corpus and its manifest");
        }
    }
}
