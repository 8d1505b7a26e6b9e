# Sourced by spark/benchmark, spark/standalone-cluster and benchmarks/train (its --spark option): finds a
# JDK >= 21, builds the spark module when a source or pom changed since the last build, and sets
#   spark_java    the java executable
#   spark_flags   the JVM flags Spark needs (target/jvm-flags.txt, from the parent pom) and the Vector API
#   spark_cp      the module's jar and its runtime class path (Spark included)
#   spark_job_jar the application jar for spark-submit (Adjoint only; Spark comes from the cluster)
# The caller defines root (the repository) and die().

min_version=21
source "$root/benchmarks/find-jdk.sh"
spark_jdk="$(find_jdk)"
spark_java="$spark_jdk/bin/java"
spark_target="$root/spark/target"

spark_stale() {
    [[ -f "$spark_target/classpath.txt" ]] || return 0
    [[ -n "$(cd "$root" && find pom.xml api engine-scalar engine-simd nn spark -newer "$spark_target/classpath.txt" \
        \( -path '*/target' -prune -o \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \
        -o -path 'spark/src/build/*' \) -print \) 2>/dev/null | head -n 1)" ]]
}

spark_prepare() {
    local build="$1"
    if [[ "$build" == yes ]] && spark_stale; then
        command -v mvn >/dev/null || die "Maven (mvn) is needed to build the spark module"
        echo "==> building spark/target (adjoint-spark and its class path)" >&2
        # Maven may run on an older default JDK; the parent pom's toolchain step compiles with a JDK >= 21.
        (cd "$root" && mvn -B -q -DskipTests package -pl spark -am) || die "build failed"
        # The dependency plugin leaves classpath.txt alone when the class path did not change; its time
        # marks the build for spark_stale.
        touch "$spark_target/classpath.txt"
    fi
    [[ -f "$spark_target/classpath.txt" ]] || die "spark/target/classpath.txt does not exist; run without --no-build"
    local jar
    jar="$(ls "$spark_target"/adjoint-spark-*.jar | grep -v -- '-job\.jar$' | head -n 1)"
    spark_job_jar="$(ls "$spark_target"/adjoint-spark-*-job.jar | head -n 1)"
    spark_cp="$jar:$(cat "$spark_target/classpath.txt")"
    # shellcheck disable=SC2207
    spark_flags=($(cat "$spark_target/jvm-flags.txt") --add-modules jdk.incubator.vector)
}
