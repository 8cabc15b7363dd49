# Sourced (not run) by ./timbre, .ci/run and the bench scripts: sets JAVA_HOME (and PATH) to a JDK 25 or newer.
# Order: a JAVA_HOME that already points at 25+, then the installed Temurin 25, then `java` on the PATH if it is
# 25+. Anything else is an error that says what to install: the build targets release 25 and the launcher uses
# the JDK 25 AOT cache, so an older java would only fail later with a less clear message.
timbre_java_feature() { # prints the feature version of the java at $1 (a JDK home), nothing if there is none
  [[ -x "$1/bin/java" ]] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -1
}

timbre_select_jdk() {
  local candidate version
  for candidate in "${JAVA_HOME:-}" "${TIMBRE_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}" \
      "$(command -v java >/dev/null 2>&1 && dirname "$(dirname "$(readlink -f "$(command -v java)")")")"; do
    [[ -n "$candidate" ]] || continue
    version="$(timbre_java_feature "$candidate")"
    if [[ -n "$version" && "$version" -ge 25 ]]; then
      export JAVA_HOME="$candidate"
      case ":$PATH:" in *":$JAVA_HOME/bin:"*) ;; *) export PATH="$JAVA_HOME/bin:$PATH" ;; esac
      return 0
    fi
  done
  echo "timbre: Java 25 or newer is required (JAVA_HOME=${JAVA_HOME:-unset}, java on PATH: $(java -version 2>&1 | head -1 || echo none))." >&2
  echo "timbre: install Temurin 25 (apt-get install temurin-25-jdk from packages.adoptium.net, or https://adoptium.net) or set JAVA_HOME to a JDK 25+." >&2
  return 1
}

timbre_select_jdk || exit 1
