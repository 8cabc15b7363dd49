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
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads CloudFormation YAML into plain maps and lists, turning every short-form intrinsic tag into its long
 * form ({@code !Ref X} becomes {@code {Ref: X}}, {@code !GetAtt A.B} becomes {@code {Fn::GetAtt: [A, B]}}), so
 * the checks see one shape whichever form the template uses. YAML timestamps stay strings, as CloudFormation
 * reads them ({@code Version: 2012-10-17} unquoted is still the policy version), and only true/false are
 * booleans.
 *
 * <p>Not thread-safe (SnakeYAML's {@code Yaml} is not); create one per use.
 */
final class CfnYaml {

    /** Short-form tag (without '!') to long-form key; the list is CloudFormation's, plus SAM's none. */
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
            return asMap(yaml().load(in), file.toString());
        }
    }

    static Map<String, Object> parse(String text) {
        return asMap(yaml().load(text), "<text>");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object root, String source) {
        if (!(root instanceof Map)) {
            throw new IllegalArgumentException(source + ": the document is not a mapping");
        }
        return (Map<String, Object>) root;
    }

    private static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false); // CloudFormation rejects duplicate keys; so do we
        return new Yaml(new IntrinsicConstructor(options));
    }

    private static final class IntrinsicConstructor extends SafeConstructor {
        IntrinsicConstructor(LoaderOptions options) {
            super(options);
            for (Map.Entry<String, String> e : INTRINSICS.entrySet()) {
                yamlConstructors.put(new Tag("!" + e.getKey()), new Intrinsic(e.getValue()));
            }
            yamlConstructors.put(Tag.TIMESTAMP, yamlConstructors.get(Tag.STR));
            // YAML 1.1 reads On/Off/Yes/No as booleans: a condition named "On" would become the key true.
            // Only true/false are booleans here; the rest stay the strings they look like.
            yamlConstructors.put(Tag.BOOL, new AbstractConstruct() {
                @Override
                public Object construct(Node node) {
                    String text = constructScalar((ScalarNode) node);
                    return switch (text.toLowerCase(java.util.Locale.ROOT)) {
                        case "true" -> Boolean.TRUE;
                        case "false" -> Boolean.FALSE;
                        default -> text;
                    };
                }
            });
        }

        private final class Intrinsic extends AbstractConstruct {
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
