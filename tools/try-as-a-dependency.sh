#!/usr/bin/env bash
# Uses Adjoint as a new Maven project would, from scratch: installs this checkout into an empty,
# temporary local repository, writes a throwaway project that imports adjoint-bom and holds the README's
# example program (the pom is the README's "Use it in your project"), builds it and runs it with
# `mvn compile exec:exec`, and checks what it prints.
#
#   tools/try-as-a-dependency.sh                   artifacts from Maven Central (downloads ~400 MB)
#   tools/try-as-a-dependency.sh --seed ~/.m2/repository
#                                                  an existing local repository served ahead of Central
#                                                  (as a file:// repository), so little is downloaded
#   tools/try-as-a-dependency.sh --keep            leave the temporary repository and project in place
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seed=""
keep=no
while (($#)); do
    case "$1" in
        --seed) seed="$(cd "$2" && pwd)"; shift ;;
        --keep) keep=yes ;;
        --help|-h) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "try-as-a-dependency: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

work="$(mktemp -d /tmp/adjoint-consumer.XXXXXX)"
[[ "$keep" == yes ]] || trap 'rm -rf "$work"' EXIT
repo="$work/m2"
mvn_args=(-B -q "-Dmaven.repo.local=$repo")
if [[ -n "$seed" ]]; then
    cat > "$work/settings.xml" <<EOF
<settings>
  <profiles>
    <profile>
      <id>seed</id>
      <repositories><repository><id>seed</id><url>file://$seed</url></repository></repositories>
      <pluginRepositories><pluginRepository><id>seed</id><url>file://$seed</url></pluginRepository></pluginRepositories>
    </profile>
  </profiles>
  <activeProfiles><activeProfile>seed</activeProfile></activeProfiles>
</settings>
EOF
    mvn_args+=(-s "$work/settings.xml")
fi

echo "==> mvn install of $root into $repo" >&2
(cd "$root" && mvn "${mvn_args[@]}" install -DskipTests)

project="$work/uses-adjoint"
mkdir -p "$project/src/main/java/com/example"
cat > "$project/pom.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>uses-adjoint</artifactId>
  <version>1.0</version>

  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <maven.compiler.release>21</maven.compiler.release>
  </properties>

  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>dev.adjoint</groupId>
        <artifactId>adjoint-bom</artifactId>
        <version>0.1.0-SNAPSHOT</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>

  <dependencies>
    <dependency>
      <groupId>dev.adjoint</groupId>
      <artifactId>adjoint-api</artifactId>
    </dependency>
    <dependency>
      <groupId>dev.adjoint</groupId>
      <artifactId>adjoint-nn</artifactId>
    </dependency>
    <dependency>
      <groupId>dev.adjoint</groupId>
      <artifactId>adjoint-engine-simd</artifactId>
      <scope>runtime</scope>
    </dependency>
    <dependency>
      <groupId>dev.adjoint</groupId>
      <artifactId>adjoint-engine-scalar</artifactId>
      <scope>runtime</scope>
    </dependency>
  </dependencies>

  <build>
    <plugins>
      <!-- Compile and run with a JDK 21+ even when Maven itself runs on an older one. -->
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-toolchains-plugin</artifactId>
        <version>3.2.0</version>
        <executions>
          <execution>
            <goals><goal>select-jdk-toolchain</goal></goals>
            <configuration><version>[21,)</version></configuration>
          </execution>
        </executions>
      </plugin>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-compiler-plugin</artifactId>
        <version>3.13.0</version>
      </plugin>
      <plugin>
        <groupId>org.codehaus.mojo</groupId>
        <artifactId>exec-maven-plugin</artifactId>
        <version>3.5.0</version>
        <configuration>
          <executable>java</executable>
          <arguments>
            <argument>--add-modules</argument>
            <argument>jdk.incubator.vector</argument>
            <argument>-classpath</argument>
            <classpath/>
            <argument>com.example.Example</argument>
          </arguments>
        </configuration>
      </plugin>
    </plugins>
  </build>
</project>
EOF
# The README's complete program (the java block that declares class Example), in a package.
{
    echo "package com.example;"
    echo
    awk '/^```java$/ { block = ""; inside = 1; next }
         /^```$/ && inside { if (block ~ /public class Example /) printf "%s", block; inside = 0; next }
         inside { block = block $0 "\n" }' "$root/README.md"
} > "$project/src/main/java/com/example/Example.java"

echo "==> mvn compile exec:exec in $project" >&2
out="$(cd "$project" && mvn "${mvn_args[@]}" compile exec:exec 2>&1)"
echo "$out"
grep -q "w = 3.0000, b = 2.0000" <<< "$out" || { echo "try-as-a-dependency: the example did not print its fit" >&2; exit 1; }
echo "==> the example built and ran against the installed artifacts (adjoint-bom imported)" >&2
