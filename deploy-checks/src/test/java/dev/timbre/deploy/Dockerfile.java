package dev.timbre.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read the way the builder reads it: comment lines dropped, backslash continuations joined, one
 * instruction per logical line, each tagged with its build stage. Enough for lint rules; not a full parser
 * (no heredocs, no escape directive).
 */
final class Dockerfile {

    record Instruction(String keyword, String args, int stage, int line) {
    }

    record Stage(int index, String from, String name) {
    }

    private static final Pattern FROM = Pattern.compile(
            "(?i)^(?:--platform=\\S+\\s+)?(\\S+)(?:\\s+AS\\s+(\\S+))?\\s*$");
    private static final Pattern ENV_PAIR = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"(?:[^\"\\\\]|\\\\.)*\"|\\S+)");

    final Path path;
    final List<Instruction> instructions = new ArrayList<>();
    final List<Stage> stages = new ArrayList<>();
    /** ARGs declared before the first FROM, with their defaults (usable in FROM lines). */
    final Map<String, String> globalArgs = new LinkedHashMap<>();

    private Dockerfile(Path path) {
        this.path = path;
    }

    static Dockerfile read(Path path) throws IOException {
        Dockerfile d = new Dockerfile(path);
        List<String> lines = Files.readAllLines(path);
        StringBuilder logical = new StringBuilder();
        int start = 0;
        int stage = -1;
        for (int i = 0; i < lines.size(); i++) {
            String raw = lines.get(i);
            String trimmed = raw.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && logical.length() == 0)) {
                continue;
            }
            if (logical.length() == 0) {
                start = i + 1;
            }
            if (trimmed.endsWith("\\")) {
                logical.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            logical.append(trimmed);
            String text = logical.toString().strip();
            logical.setLength(0);
            if (text.isEmpty()) {
                continue;
            }
            int space = text.indexOf(' ');
            String keyword = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
            String args = space < 0 ? "" : text.substring(space + 1).strip();
            if (keyword.equals("FROM")) {
                stage++;
                Matcher m = FROM.matcher(args);
                if (!m.matches()) {
                    throw new IllegalArgumentException(path + ":" + start + ": unreadable FROM " + args);
                }
                d.stages.add(new Stage(stage, m.group(1), m.group(2)));
            } else if (keyword.equals("ARG") && stage < 0) {
                String[] kv = args.split("=", 2);
                d.globalArgs.put(kv[0], kv.length > 1 ? kv[1] : null);
            }
            d.instructions.add(new Instruction(keyword, args, stage, start));
        }
        return d;
    }

    Stage finalStage() {
        return stages.get(stages.size() - 1);
    }

    /** The image a stage starts from, with global ARG defaults substituted. */
    String baseImage(Stage s) {
        String image = s.from();
        for (Map.Entry<String, String> a : globalArgs.entrySet()) {
            if (a.getValue() != null) {
                image = image.replace("${" + a.getKey() + "}", a.getValue()).replace("$" + a.getKey(), a.getValue());
            }
        }
        return image;
    }

    boolean isStageName(String image) {
        return stages.stream().anyMatch(s -> image.equalsIgnoreCase(s.name()));
    }

    List<Instruction> inStage(int stage, String keyword) {
        return instructions.stream().filter(i -> i.stage() == stage && i.keyword().equals(keyword)).toList();
    }

    /** ENV values of a stage in order (later ones win), both KEY=value and the legacy KEY value form. */
    Map<String, String> env(int stage) {
        Map<String, String> env = new LinkedHashMap<>();
        for (Instruction i : inStage(stage, "ENV")) {
            env.putAll(envPairs(i));
        }
        return env;
    }

    static Map<String, String> envPairs(Instruction i) {
        Map<String, String> pairs = new LinkedHashMap<>();
        if (!i.args().contains("=") || i.args().indexOf(' ') < i.args().indexOf('=')) {
            String[] kv = i.args().split("\\s+", 2);
            pairs.put(kv[0], kv.length > 1 ? kv[1] : "");
            return pairs;
        }
        Matcher m = ENV_PAIR.matcher(i.args());
        while (m.find()) {
            String v = m.group(2);
            pairs.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
        }
        return pairs;
    }

    /** The final stage's CMD in exec form. */
    List<String> cmd() throws IOException {
        List<Instruction> cmds = inStage(finalStage().index(), "CMD");
        if (cmds.isEmpty()) {
            return List.of();
        }
        String args = cmds.get(cmds.size() - 1).args();
        if (!args.startsWith("[")) {
            throw new IllegalArgumentException(path + ": CMD must use the exec (JSON) form, was " + args);
        }
        List<String> out = new ArrayList<>();
        for (Object o : new ObjectMapper().readValue(args, List.class)) {
            out.add(String.valueOf(o));
        }
        return out;
    }
}
