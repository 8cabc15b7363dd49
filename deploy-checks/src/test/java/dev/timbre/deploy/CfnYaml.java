package dev.timbre.deploy;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.ConstructNode;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.constructor.StandardConstructor;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Reads CloudFormation YAML into plain maps and lists, turning every short-form intrinsic tag into its long
 * form ({@code !Ref X} becomes {@code {Ref: X}}, {@code !GetAtt A.B} becomes {@code {Fn::GetAtt: [A, B]}}), so
 * the checks see one shape whichever form the template uses. YAML 1.2 core schema (SnakeYAML Engine): dates
 * stay strings ({@code Version: 2012-10-17}) and only true/false are booleans ({@code On}, {@code yes} are not),
 * and duplicate keys are an error, as in CloudFormation.
 *
 * <p>Not thread-safe (a loader holds state); create one per use.
 */
final class CfnYaml {

    /** Short-form tag (without '!') to long-form key. */
    private static final Map<String, String> INTRINSICS = Map.ofEntries(
            Map.entry("Ref", "Ref"),
            Map.entry("Condition", "Condition"),
            Map.entry("GetAtt", "Fn::GetAtt"),
            Map.entry("Sub", "Fn::Sub"),
            Map.entry("If", "Fn::If"),
            Map.entry("Equals", "Fn::Equals"),
            Map.entry("Not", "Fn::Not"),
            Map.entry("And", "Fn::And"),
            Map.entry("Or", "Fn::Or"),
            Map.entry("Select", "Fn::Select"),
            Map.entry("Split", "Fn::Split"),
            Map.entry("Join", "Fn::Join"),
            Map.entry("FindInMap", "Fn::FindInMap"),
            Map.entry("Base64", "Fn::Base64"),
            Map.entry("GetAZs", "Fn::GetAZs"),
            Map.entry("ImportValue", "Fn::ImportValue"),
            Map.entry("Cidr", "Fn::Cidr"),
            Map.entry("Length", "Fn::Length"),
            Map.entry("ToJsonString", "Fn::ToJsonString"),
            Map.entry("Transform", "Fn::Transform"));

    private CfnYaml() {
    }

    static Map<String, Object> load(Path file) throws IOException {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return asMap(loader().loadFromReader(in), file.toString());
        }
    }

    static Map<String, Object> parse(String text) {
        return asMap(loader().loadFromString(text), "<text>");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object root, String source) {
        if (!(root instanceof Map)) {
            throw new IllegalArgumentException(source + ": the document is not a mapping");
        }
        return (Map<String, Object>) root;
    }

    private static Load loader() {
        LoadSettings settings = LoadSettings.builder()
                .setSchema(new CoreSchema())
                .setAllowDuplicateKeys(false)
                .setLabel("template")
                .build();
        return new Load(settings, new IntrinsicConstructor(settings));
    }

    private static final class IntrinsicConstructor extends StandardConstructor {
        IntrinsicConstructor(LoadSettings settings) {
            super(settings);
            for (Map.Entry<String, String> e : INTRINSICS.entrySet()) {
                tagConstructors.put(new Tag("!" + e.getKey()), new Intrinsic(e.getValue()));
            }
        }

        private final class Intrinsic implements ConstructNode {
            private final String key;

            Intrinsic(String key) {
                this.key = key;
            }

            @Override
            public Object construct(Node node) {
                Object value;
                if (node instanceof ScalarNode scalar) {
                    String text = constructScalar(scalar);
                    // !GetAtt Resource.Attribute (the attribute may itself contain dots: Endpoint.Address)
                    if (key.equals("Fn::GetAtt")) {
                        int dot = text.indexOf('.');
                        if (dot < 1) {
                            throw new IllegalArgumentException("!GetAtt needs Resource.Attribute, got '" + text + "'");
                        }
                        value = List.of(text.substring(0, dot), text.substring(dot + 1));
                    } else {
                        value = text;
                    }
                } else if (node instanceof SequenceNode seq) {
                    value = new ArrayList<>(constructSequence(seq));
                } else {
                    value = new LinkedHashMap<>(constructMapping((MappingNode) node));
                }
                Map<String, Object> longForm = new LinkedHashMap<>();
                longForm.put(key, value);
                return longForm;
            }
        }
    }
}
