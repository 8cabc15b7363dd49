package dev.timbre.deploy;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parsed CloudFormation/SAM template (long-form intrinsics, see {@link CfnYaml}) with the few queries the rule
 * checks need: sections, resources, every reference with the conditions it sits under, and evaluation of a
 * property for one choice of parameter values. Immutable after load; safe to share between tests.
 */
final class Template {

    static final Set<String> PSEUDO_PARAMETERS = Set.of("AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue",
            "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix");

    /** ${Name} or ${Resource.Attribute} in Fn::Sub; ${!Literal} is an escape, not a reference. */
    private static final Pattern SUB_VARIABLE = Pattern.compile("\\$\\{([^!}][^}]*)}");

    private final Map<String, Object> root;

    private Template(Map<String, Object> root) {
        this.root = root;
    }

    static Template load(Path file) throws IOException {
        return new Template(CfnYaml.load(file));
    }

    static Template parse(String text) {
        return new Template(CfnYaml.parse(text));
    }

    Map<String, Object> root() {
        return root;
    }

    Map<String, Object> section(String name) {
        Object s = root.get(name);
        return s == null ? Map.of() : map(s, name);
    }

    Map<String, Object> resource(String logicalId) {
        Object r = section("Resources").get(logicalId);
        if (r == null) {
            throw new AssertionError("template has no resource " + logicalId);
        }
        return map(r, logicalId);
    }

    Map<String, Object> properties(String logicalId) {
        Object p = resource(logicalId).get("Properties");
        return p == null ? Map.of() : map(p, logicalId + ".Properties");
    }

    String type(String logicalId) {
        return (String) resource(logicalId).get("Type");
    }

    List<String> resourcesOfType(String type) {
        List<String> ids = new ArrayList<>();
        section("Resources").forEach((id, r) -> {
            if (type.equals(map(r, id).get("Type"))) {
                ids.add(id);
            }
        });
        return ids;
    }

    /** The condition a resource or output is created under, or null. */
    String conditionOf(String section, String logicalId) {
        Object entry = section(section).get(logicalId);
        return entry == null ? null : (String) map(entry, logicalId).get("Condition");
    }

    // ------------------------------------------------------------------------------------------ references

    enum Kind { REF, GET_ATT, SUB, FIND_IN_MAP, CONDITION, DEPENDS_ON }

    /**
     * One reference. {@code where} is a path for messages; {@code guards} the conditions that must all be true
     * for the referencing element to exist (the resource's own Condition and the true branches of Fn::If).
     */
    record Reference(Kind kind, String target, String attribute, String where, Set<String> guards) {
    }

    /** Every reference in Resources, Outputs and Conditions, in document order. */
    List<Reference> references() {
        List<Reference> out = new ArrayList<>();
        for (String sectionName : List.of("Resources", "Outputs")) {
            section(sectionName).forEach((id, entry) -> {
                Map<String, Object> e = map(entry, id);
                Set<String> guards = new LinkedHashSet<>();
                if (e.get("Condition") instanceof String c) {
                    guards.add(c);
                    out.add(new Reference(Kind.CONDITION, c, null, sectionName + "." + id + ".Condition", Set.of()));
                }
                Object dependsOn = e.get("DependsOn");
                for (Object d : dependsOn instanceof List<?> l ? l : dependsOn == null ? List.of() : List.of(dependsOn)) {
                    out.add(new Reference(Kind.DEPENDS_ON, (String) d, null, sectionName + "." + id + ".DependsOn",
                            Set.copyOf(guards)));
                }
                for (String key : List.of("Properties", "Value", "Metadata")) {
                    if (e.containsKey(key)) {
                        walk(e.get(key), sectionName + "." + id + "." + key, guards, out);
                    }
                }
            });
        }
        section("Conditions").forEach((id, c) -> walk(c, "Conditions." + id, Set.of(), out));
        return out;
    }

    private static void walk(Object node, String where, Set<String> guards, List<Reference> out) {
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                walk(list.get(i), where + "[" + i + "]", guards, out);
            }
            return;
        }
        if (!(node instanceof Map<?, ?> m)) {
            return;
        }
        if (m.size() == 1) {
            Map.Entry<?, ?> only = m.entrySet().iterator().next();
            String fn = String.valueOf(only.getKey());
            Object arg = only.getValue();
            switch (fn) {
                case "Ref" -> {
                    out.add(new Reference(Kind.REF, (String) arg, null, where, guards));
                    return;
                }
                case "Condition" -> {
                    if (arg instanceof String c) {
                        out.add(new Reference(Kind.CONDITION, c, null, where, guards));
                        return;
                    }
                }
                case "Fn::GetAtt" -> {
                    List<?> parts = arg instanceof List<?> l ? l : List.of(String.valueOf(arg).split("\\.", 2));
                    out.add(new Reference(Kind.GET_ATT, (String) parts.get(0), String.valueOf(parts.get(1)), where,
                            guards));
                    return;
                }
                case "Fn::Sub" -> {
                    String text;
                    Set<String> locals = Set.of();
                    if (arg instanceof List<?> l) {
                        text = (String) l.get(0);
                        Map<?, ?> vars = (Map<?, ?>) l.get(1);
                        locals = new LinkedHashSet<>();
                        for (Object k : vars.keySet()) {
                            locals.add(String.valueOf(k));
                        }
                        walk(vars, where + ".Fn::Sub[1]", guards, out);
                    } else {
                        text = (String) arg;
                    }
                    Matcher v = SUB_VARIABLE.matcher(text);
                    while (v.find()) {
                        String name = v.group(1).trim();
                        if (locals.contains(name)) {
                            continue;
                        }
                        int dot = name.indexOf('.');
                        if (dot > 0 && !name.startsWith("AWS::")) {
                            out.add(new Reference(Kind.GET_ATT, name.substring(0, dot), name.substring(dot + 1),
                                    where + " (Fn::Sub)", guards));
                        } else {
                            out.add(new Reference(Kind.SUB, name, null, where + " (Fn::Sub)", guards));
                        }
                    }
                    return;
                }
                case "Fn::FindInMap" -> {
                    List<?> l = (List<?>) arg;
                    if (l.get(0) instanceof String mapName) {
                        out.add(new Reference(Kind.FIND_IN_MAP, mapName, null, where, guards));
                    }
                    walk(l, where + ".Fn::FindInMap", guards, out);
                    return;
                }
                case "Fn::If" -> {
                    List<?> l = (List<?>) arg;
                    String condition = (String) l.get(0);
                    out.add(new Reference(Kind.CONDITION, condition, null, where + ".Fn::If", guards));
                    Set<String> whenTrue = new LinkedHashSet<>(guards);
                    whenTrue.add(condition);
                    walk(l.get(1), where + ".Fn::If[true]", whenTrue, out);
                    walk(l.get(2), where + ".Fn::If[false]", guards, out);
                    return;
                }
                default -> {
                    // any other key, intrinsic or not: descend
                }
            }
        }
        m.forEach((k, v) -> walk(v, where + "." + k, guards, out));
    }

    // ------------------------------------------------------------------------------------------ evaluation

    /** The values a parameter can take that matter for range rules: its AllowedValues, else Min, Max, Default. */
    List<String> candidateValues(String parameter) {
        Map<String, Object> p = map(section("Parameters").get(parameter), parameter);
        List<String> values = new ArrayList<>();
        if (p.get("AllowedValues") instanceof List<?> allowed) {
            allowed.forEach(a -> values.add(String.valueOf(a)));
            return values;
        }
        for (String key : List.of("MinValue", "MaxValue", "Default")) {
            if (p.containsKey(key)) {
                values.add(String.valueOf(p.get(key)));
            }
        }
        if (values.isEmpty()) {
            throw new AssertionError("parameter " + parameter + " has no AllowedValues, MinValue, MaxValue or Default");
        }
        return values;
    }

    /** The parameters a value depends on directly or through Fn::FindInMap keys. */
    Set<String> parametersIn(Object value) {
        Set<String> names = new LinkedHashSet<>();
        List<Reference> refs = new ArrayList<>();
        walk(value, "", Set.of(), refs);
        for (Reference r : refs) {
            if ((r.kind() == Kind.REF || r.kind() == Kind.SUB) && section("Parameters").containsKey(r.target())) {
                names.add(r.target());
            }
        }
        return names;
    }

    /**
     * Evaluates literals, Ref to a parameter (from {@code choice}, else its Default) and Fn::FindInMap. Anything
     * else (a Ref to a resource, Fn::GetAtt) cannot be known offline and fails the check that asked.
     */
    Object evaluate(Object value, Map<String, String> choice) {
        if (value instanceof Map<?, ?> m && m.size() == 1) {
            Map.Entry<?, ?> only = m.entrySet().iterator().next();
            if (only.getKey().equals("Ref")) {
                String name = (String) only.getValue();
                if (choice.containsKey(name)) {
                    return choice.get(name);
                }
                Object p = section("Parameters").get(name);
                if (p == null || !map(p, name).containsKey("Default")) {
                    throw new AssertionError("cannot evaluate Ref " + name + " offline");
                }
                return String.valueOf(map(p, name).get("Default"));
            }
            if (only.getKey().equals("Fn::FindInMap")) {
                List<?> args = (List<?>) only.getValue();
                String mapName = String.valueOf(evaluate(args.get(0), choice));
                String top = String.valueOf(evaluate(args.get(1), choice));
                String second = String.valueOf(evaluate(args.get(2), choice));
                Map<String, Object> mapping = map(section("Mappings").get(mapName), mapName);
                Object level = mapping.get(top);
                if (level == null) {
                    throw new AssertionError("mapping " + mapName + " has no key '" + top + "'");
                }
                Object v = map(level, mapName + "." + top).get(second);
                if (v == null) {
                    throw new AssertionError("mapping " + mapName + "." + top + " has no key '" + second + "'");
                }
                return v;
            }
            throw new AssertionError("cannot evaluate " + only.getKey() + " offline");
        }
        return value;
    }

    BigDecimal number(Object value, Map<String, String> choice) {
        return new BigDecimal(String.valueOf(evaluate(value, choice)));
    }

    /** Every combination of the candidate values of the given parameters (a small cartesian product). */
    List<Map<String, String>> choices(Set<String> parameters) {
        List<Map<String, String>> combos = new ArrayList<>();
        combos.add(new LinkedHashMap<>());
        for (String p : parameters) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> c : combos) {
                for (String v : candidateValues(p)) {
                    Map<String, String> extended = new LinkedHashMap<>(c);
                    extended.put(p, v);
                    next.add(extended);
                }
            }
            combos = next;
        }
        return combos;
    }

    // ------------------------------------------------------------------------------------------ rendering

    /** Whether the named condition holds for {@code choice} (parameters not in it take their Default). */
    boolean condition(String name, Map<String, String> choice) {
        Object c = section("Conditions").get(name);
        if (c == null) {
            throw new AssertionError("no condition " + name);
        }
        return truth(c, choice);
    }

    private boolean truth(Object expr, Map<String, String> choice) {
        Map<String, Object> m = map(expr, "condition " + expr);
        Map.Entry<String, Object> only = m.entrySet().iterator().next();
        List<?> args = only.getValue() instanceof List<?> l ? l : List.of(only.getValue());
        return switch (only.getKey()) {
            case "Condition" -> condition((String) only.getValue(), choice);
            case "Fn::Equals" -> String.valueOf(evaluate(args.get(0), choice))
                    .equals(String.valueOf(evaluate(args.get(1), choice)));
            case "Fn::Not" -> !truth(args.get(0), choice);
            case "Fn::And" -> args.stream().allMatch(a -> truth(a, choice));
            case "Fn::Or" -> args.stream().anyMatch(a -> truth(a, choice));
            default -> throw new AssertionError("cannot evaluate condition function " + only.getKey());
        };
    }

    /**
     * The template CloudFormation would act on for {@code choice}: resources and outputs whose Condition is false
     * dropped, every Fn::If replaced by its chosen branch (AWS::NoValue removes the key or list item), the
     * Conditions section gone. Parameters stay (their Refs are not resolved).
     */
    Template render(Map<String, String> choice) {
        Map<String, Object> out = new LinkedHashMap<>();
        root.forEach((key, value) -> {
            if (key.equals("Conditions")) {
                return;
            }
            if (key.equals("Parameters")) {
                // the chosen values pinned (a range of one), so linters resolve each Ref to what is deployed
                Map<String, Object> pinned = new LinkedHashMap<>();
                map(value, key).forEach((name, declared) -> {
                    Map<String, Object> p = new LinkedHashMap<>(map(declared, name));
                    String chosen = choice.get(name);
                    if (chosen != null) {
                        boolean number = "Number".equals(p.get("Type"));
                        Object v = number ? new BigDecimal(chosen) : chosen;
                        p.put("Default", v);
                        if (p.containsKey("AllowedValues")) {
                            p.put("AllowedValues", List.of(v));
                        }
                        if (number) {
                            p.put("MinValue", v);
                            p.put("MaxValue", v);
                        }
                    }
                    pinned.put(name, p);
                });
                out.put(key, pinned);
                return;
            }
            if (key.equals("Resources") || key.equals("Outputs")) {
                Map<String, Object> kept = new LinkedHashMap<>();
                map(value, key).forEach((id, e) -> {
                    Map<String, Object> entry = new LinkedHashMap<>(map(e, id));
                    Object c = entry.remove("Condition");
                    if (c == null || condition((String) c, choice)) {
                        kept.put(id, resolveIfs(entry, choice));
                    }
                });
                out.put(key, kept);
            } else {
                out.put(key, value);
            }
        });
        return new Template(out);
    }

    private static final Object NO_VALUE = new Object();

    private Object resolveIfs(Object node, Map<String, String> choice) {
        if (node instanceof List<?> list) {
            List<Object> copy = new ArrayList<>();
            for (Object o : list) {
                Object r = resolveIfs(o, choice);
                if (r != NO_VALUE) {
                    copy.add(r);
                }
            }
            return copy;
        }
        if (!(node instanceof Map<?, ?> m)) {
            return node;
        }
        if (m.size() == 1 && "Fn::If".equals(m.keySet().iterator().next())) {
            List<?> args = (List<?>) m.get("Fn::If");
            return resolveIfs(condition((String) args.get(0), choice) ? args.get(1) : args.get(2), choice);
        }
        if (m.size() == 1 && "AWS::NoValue".equals(m.get("Ref"))) {
            return NO_VALUE;
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            Object r = resolveIfs(v, choice);
            if (r != NO_VALUE) {
                copy.put((String) k, r);
            }
        });
        return copy;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map)) {
            throw new AssertionError(what + " is not a mapping: " + o);
        }
        return (Map<String, Object>) o;
    }
}
