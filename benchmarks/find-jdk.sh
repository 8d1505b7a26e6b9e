# Sourced by benchmarks/run and benchmarks/train: finds a JDK >= $min_version (JAVA_HOME first, then the
# newest under /usr/lib/jvm). The caller defines min_version and die().

# Major version of the JDK at $1 (0 when it is not a runnable JDK), from the JVM itself so that
# every layout (distribution packages, SDKMAN, unpacked tarballs) is read the same way.
jdk_major() {
    local java="$1/bin/java" spec
    [[ -x "$java" ]] || { echo 0; return; }
    spec="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
    case "$spec" in
        1.*|"") echo 0 ;;  # Java 8 and older report 1.x
        *) echo "${spec%%.*}" ;;
    esac
}

find_jdk() {
    if [[ -n "${JAVA_HOME:-}" ]] && (( $(jdk_major "$JAVA_HOME") >= min_version )); then
        echo "$JAVA_HOME"
        return
    fi
    local best="" best_major=0 dir major
    for dir in /usr/lib/jvm/*/; do
        dir="${dir%/}"
        major="$(jdk_major "$dir")"
        if (( major >= min_version && major > best_major )); then
            best="$dir"
            best_major="$major"
        fi
    done
    [[ -n "$best" ]] || die "no JDK $min_version or newer found (JAVA_HOME=${JAVA_HOME:-unset}, nothing suitable in /usr/lib/jvm).
Install a JDK $min_version+ (your distribution's openjdk package or Temurin), or point JAVA_HOME at one."
    echo "$best"
}
