#!/usr/bin/env bash
# Installs Apache Spark for fedflow's Spark engine into the project-local
# .venv-spark (pip's pyspark ships bin/spark-submit, bin/spark-class and the
# jars), idempotently. Spark needs Java 17 (Debian: openjdk-17-jre-headless).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "spark.sh: please install Java 17 (e.g. sudo apt-get install openjdk-17-jre-headless)" >&2
    exit 1
  fi
fi
if ! ls .venv-spark/lib/python3*/site-packages/pyspark/bin/spark-submit >/dev/null 2>&1; then
  python3 -m venv .venv-spark
  .venv-spark/bin/pip install -q pyspark==4.3.0
fi
