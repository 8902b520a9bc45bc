# Sourced by ./faultline, ./run-tests and bench/scripts: finds a JDK >= 22, sets the JVM and Maven
# flags the project needs, and builds a jar when it is older than the sources.
# Sets FAULTLINE_JAVA_HOME, or prints one line saying what to install and returns 1.

FAULTLINE_MIN_JAVA=22
FAULTLINE_JVM_FLAGS="--enable-native-access=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
# Maven itself runs on that JDK; Unsafe memory access keeps it from warning on JDK 25.
FAULTLINE_MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow ${MAVEN_OPTS:-}"

# The feature release of the JDK at $1 (e.g. 25), or nothing if it has no java/javac.
faultline_jdk_release() {
    [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
    "$1/bin/java" -XshowSettings:properties -version 2>&1 |
        sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

faultline_find_jdk() {
    local candidate release best="" best_release=0 seen=""
    for candidate in "${JAVA_HOME:-}" ${FAULTLINE_JDK_DIRS:-/usr/lib/jvm/*}; do  # FAULTLINE_JDK_DIRS: for tests
        [ -n "$candidate" ] && [ -d "$candidate" ] || continue
        case "$seen " in *" $candidate="*) continue ;; esac   # JAVA_HOME is also under /usr/lib/jvm
        release=$(faultline_jdk_release "$candidate")
        [ -n "$release" ] || continue
        seen="$seen ${candidate}=${release}"
        if [ "$candidate" = "${JAVA_HOME:-}" ] && [ "$release" -ge "$FAULTLINE_MIN_JAVA" ]; then
            best=$candidate; best_release=$release; break   # JAVA_HOME wins when it is new enough
        fi
        if [ "$release" -ge "$FAULTLINE_MIN_JAVA" ] && [ "$release" -gt "$best_release" ]; then
            best=$candidate; best_release=$release
        fi
    done
    if [ -z "$best" ]; then
        echo "faultline: needs a JDK $FAULTLINE_MIN_JAVA or newer (found:${seen:- none}); install one (e.g. Temurin 25 under /usr/lib/jvm) or point JAVA_HOME at it" >&2
        return 1
    fi
    FAULTLINE_JAVA_HOME=$best
}

# Whether jar $1 is missing or older than any pom.xml or main source under the repository root $2.
faultline_jar_stale() {
    [ ! -f "$1" ] && return 0
    [ -n "$(find "$2" \( -name target -o -name node_modules -o -name .git \) -prune -o \
        \( -name pom.xml -o -path '*/src/main/*' \) -type f -newer "$1" -print -quit)" ]
}

# faultline_ensure_jar JAR ROOT [MAVEN ARGS...]: when JAR is missing or stale, builds it with
# `mvn package` (tests skipped) on the JDK found, one build at a time, showing the log only if it fails.
faultline_ensure_jar() {
    local jar=$1 root=$2 log
    shift 2
    faultline_jar_stale "$jar" "$root" || return 0
    command -v mvn >/dev/null || { echo "faultline: $jar must be built and Maven (mvn) is not installed; apt-get install maven" >&2; return 1; }
    exec 9>"$root/.faultline-build.lock"
    flock 9
    if faultline_jar_stale "$jar" "$root"; then
        echo "faultline: building $jar (first use or sources changed)..." >&2
        log=$(mktemp)
        if ! JAVA_HOME=$FAULTLINE_JAVA_HOME MAVEN_OPTS=$FAULTLINE_MAVEN_OPTS \
            mvn -f "$root/pom.xml" -B -q -DskipTests "$@" package >"$log" 2>&1; then
            tail -n 40 "$log" >&2
            echo "faultline: the build failed (full log: $log)" >&2
            exec 9>&-
            return 1
        fi
        rm -f "$log"
    fi
    exec 9>&-
}
