# The Spark driver of fedflow's Spark engine (embedded in the fedflow binary,
# written to a temporary directory and run by spark-submit).
#
# It only orchestrates: it runs the Spark SQL that fedflow sends, caches the
# results and answers on stdout. Executors run no Python: row work is done by
# `fedflow worker` through SELECT TRANSFORM. Protocol: the driver connects to
# 127.0.0.1:$FEDFLOW_SPARK_PORT (spark-submit does not pass its stdin to Python);
# one JSON request per line from fedflow, one reply per line back. When fedflow
# goes away the connection closes and the application stops.
import json
import os
import socket
import threading
import time

from pyspark import StorageLevel
from pyspark.sql import SparkSession

CONN = socket.create_connection(("127.0.0.1", int(os.environ["FEDFLOW_SPARK_PORT"])))
IN = CONN.makefile("r", encoding="utf-8")
OUT = CONN.makefile("w", encoding="utf-8")


def reply(obj):
    OUT.write(json.dumps(obj) + "\n")
    OUT.flush()


def one_line(e):
    """The most telling line of a (Java) exception."""
    text = str(e)
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    # The worker's own message (TRANSFORM puts the subprocess' stderr in the error).
    for l in lines:
        if "fedflow worker:" in l:
            return l[l.index("fedflow worker:"):]
    for key in ("OutOfMemoryError", "ExecutorLostFailure", "Subprocess exited", "SparkException"):
        for l in lines:
            if key in l:
                return l[:600]
    return (lines[0] if lines else repr(e))[:600]


def main():
    start_timeout = float(os.environ.get("FEDFLOW_SPARK_START_TIMEOUT", "60"))
    lost_timeout = float(os.environ.get("FEDFLOW_SPARK_LOST_TIMEOUT", "30"))
    spark = SparkSession.builder.getOrCreate()
    sc = spark.sparkContext
    jsc = sc._jsc.sc()

    def executors():
        # getExecutorMemoryStatus lists the driver too.
        return jsc.getExecutorMemoryStatus().size() - 1

    deadline = time.time() + start_timeout
    while executors() < 1:
        if time.time() > deadline:
            reply({"error": "no Spark executor registered within %gs (master %s unreachable, or no free worker cores/memory)"
                   % (start_timeout, sc.master)})
            spark.stop()
            return
        time.sleep(0.2)
    reply({"ready": True, "app_id": sc.applicationId, "ui": sc.uiWebUrl, "master": sc.master})

    state = {"busy": False, "lost": None}

    def watchdog():
        since = None
        while True:
            time.sleep(1)
            try:
                n = executors()
            except Exception:
                return
            if n >= 1 or not state["busy"]:
                since = None
                continue
            since = since or time.time()
            if time.time() - since > lost_timeout:
                state["lost"] = "no live Spark executor for %gs (worker died or was killed)" % lost_timeout
                sc.cancelAllJobs()
                since = None

    threading.Thread(target=watchdog, daemon=True).start()

    views = {}

    def materialize(name, df):
        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        df.createOrReplaceTempView(name)
        views[name] = df
        # One row per partition: collecting (p, c) is small and needs no shuffle.
        return {"counts": [[r[0], r[1]] for r in df.select("p", "c").collect()]}

    def handle(req):
        op = req["op"]
        if "shuffle" in req:
            spark.conf.set("spark.sql.shuffle.partitions", str(max(1, int(req["shuffle"]))))
        if op == "load":
            df = spark.read.text(req["path"]).selectExpr("split(value, '\\t') AS a").selectExpr(
                "CAST(a[0] AS INT) AS p", "CAST(a[1] AS BIGINT) AS tag",
                "CAST(a[2] AS BIGINT) AS c", "a[3] AS b")
            # Spread the partitions over tasks (a small file is one split).
            df = df.repartition(max(1, min(int(req.get("shuffle", 1)), sc.defaultParallelism * 4)), "p")
            return materialize(req["view"], df)
        if op == "sql":
            return materialize(req["view"], spark.sql(req["sql"]))
        if op == "rows":
            return {"rows": [[r[0], r[1], r[2], r[3]] for r in spark.sql(req["sql"]).collect()]}
        if op == "write":
            spark.sql(req["sql"]).selectExpr(
                "concat_ws('\\t', CAST(p AS STRING), CAST(tag AS STRING), CAST(c AS STRING), b)"
            ).write.mode("overwrite").text(req["path"])
            return {}
        if op == "drop":
            df = views.pop(req["view"], None)
            if df is not None:
                df.unpersist()
                spark.catalog.dropTempView(req["view"])
            return {}
        if op == "ping":
            return {"executors": executors()}
        raise ValueError("unknown request op %r" % op)

    for line in IN:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError as e:
            reply({"error": "bad request: %s" % e})
            continue
        if req.get("op") == "stop":
            break
        state["busy"] = True
        state["lost"] = None
        try:
            out = handle(req)
            reply({"ok": out})
        except Exception as e:  # noqa: BLE001 - every failure goes back as one line
            reply({"error": state["lost"] or one_line(e)})
        finally:
            state["busy"] = False
    spark.stop()


if __name__ == "__main__":
    main()
