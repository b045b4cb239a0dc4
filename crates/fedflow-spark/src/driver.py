# The Spark driver of fedflow's Spark engine (embedded in the fedflow binary,
# written to a temporary directory and run by spark-submit).
#
# It only orchestrates: it runs the Spark SQL that fedflow sends, caches the
# results and answers on stdout. Executors run no Python: row work is done by
# `fedflow worker` through SELECT TRANSFORM. Protocol: the driver connects to
# 127.0.0.1:$FEDFLOW_SPARK_PORT (spark-submit does not pass its stdin to Python);
# one JSON request per line from fedflow, one reply per line back. When fedflow
# goes away the connection closes and the application stops.
import gc
import json
import os
import re
import socket
import threading
import time

from pyspark import StorageLevel
from pyspark.sql import SparkSession

CONN = socket.create_connection(("127.0.0.1", int(os.environ["FEDFLOW_SPARK_PORT"])))
IN = CONN.makefile("r", encoding="utf-8")
OUT = CONN.makefile("w", encoding="utf-8")


# Spark tasks per executor core for a stage over fedflow partitions; 0 (the
# default): one task per fedflow partition. Fewer tasks save task launches and
# worker processes but put several partitions' shuffle data in one task (no
# overhead gain measured at 8 partitions).
TASKS_PER_CORE = int(os.environ.get("FEDFLOW_SPARK_TASKS_PER_CORE", "0"))


# Where a materialised table is kept. A fedflow partition is one Spark row, so
# caching it in the executor heap (Spark's columnar cache copies each value a
# few times while building, outside its memory accounting) ran 10M-row tables
# out of memory; on local disk (the OS page cache) the heap holds only the
# partitions of the running tasks.
# spark_run's conf `spark.fedflow.storageLevel` (or $FEDFLOW_SPARK_STORAGE_LEVEL)
# names another pyspark StorageLevel, e.g. MEMORY_AND_DISK (FATE's choice).
STORAGE_LEVEL_DEFAULT = os.environ.get("FEDFLOW_SPARK_STORAGE_LEVEL", "DISK_ONLY")

# How a materialised table relates to the tables it was computed from.
# "local" (the default): Spark's local checkpoint, the table's blocks are kept
# at the storage level and its lineage is cut, so Spark's shuffle files (kept
# for as long as any table computed from them lives, a full copy of every
# ancestor) are removed once the step is done, and the table's input files
# are not needed any more; a lost executor then fails the job instead of
# recomputing its partitions. "none": cache with lineage (FATE's behaviour:
# lost partitions are recomputed from the ancestors' shuffle files, at the
# price of that disk). spark_run conf `spark.fedflow.lineage` or
# $FEDFLOW_SPARK_LINEAGE.
LINEAGE_DEFAULT = os.environ.get("FEDFLOW_SPARK_LINEAGE", "local")
LINEAGES = ("local", "none")

# Dropped tables' and finished steps' files go when the driver JVM collects
# their (lineage) objects: after each request the driver collects garbage
# twice, this many seconds apart (and no more often while requests go on).
GC_INTERVAL = float(os.environ.get("FEDFLOW_SPARK_GC_INTERVAL", "5"))


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


def is_oom(reason):
    """Whether an executor's end (Spark's remove reason) was running out of memory."""
    return "OutOfMemoryError" in reason or re.search(r"exit(ed)? (with )?code 52\b", reason) is not None


def oom_detail(reason):
    if "OutOfMemoryError" in reason:
        m = re.search(r"java\.lang\.OutOfMemoryError[^\n]*", reason)
        return (m.group(0) if m else reason).strip()[:300]
    return "java.lang.OutOfMemoryError: the executor JVM exited with code 52, Spark's out-of-memory exit"


def executor_failure(e, removed):
    """(kind, detail) when an executor ran out of memory or was lost while the
    request ran, else None. kind is "oom" (a java.lang.OutOfMemoryError in a
    task, or an executor JVM exiting with Spark's out-of-memory code 52) or
    "lost" (the executor JVM was killed or crashed, e.g. by the kernel's OOM
    killer: code 137). `removed` lists the remove reasons of the executors
    that ended during the request (the exception itself often only says that a
    shuffle output went missing with them)."""
    text = str(e)
    m = re.search(r"java\.lang\.OutOfMemoryError[^\n]*", text)
    if m:
        return "oom", m.group(0).strip()[:300]
    for r in removed:
        if is_oom(r):
            return "oom", oom_detail(r)
    m = re.search(r"ExecutorLostFailure[^\n]*", text)
    if m:
        line = m.group(0).strip()
        if is_oom(line):
            return "oom", oom_detail(line)
        return "lost", line[:300]
    if removed:
        return "lost", "executor exited: %s" % removed[-1][:300]
    return None


def main():
    start_timeout = float(os.environ.get("FEDFLOW_SPARK_START_TIMEOUT", "60"))
    lost_timeout = float(os.environ.get("FEDFLOW_SPARK_LOST_TIMEOUT", "30"))
    spark = SparkSession.builder.getOrCreate()
    sc = spark.sparkContext
    bad = []
    level_name = sc.getConf().get("spark.fedflow.storageLevel", STORAGE_LEVEL_DEFAULT)
    storage_level = getattr(StorageLevel, level_name, None)
    if not isinstance(storage_level, StorageLevel):
        bad.append("spark.fedflow.storageLevel: unknown Spark storage level %r (expected e.g. DISK_ONLY, MEMORY_AND_DISK)"
                   % level_name)
    lineage = sc.getConf().get("spark.fedflow.lineage", LINEAGE_DEFAULT)
    if lineage not in LINEAGES:
        bad.append("spark.fedflow.lineage: unknown value %r (expected one of %s)"
                   % (lineage, ", ".join(LINEAGES)))
    if bad:
        reply({"error": "; ".join(bad)})
        spark.stop()
        return
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
    reply({"ready": True, "app_id": sc.applicationId, "ui": sc.uiWebUrl, "master": sc.master,
           "lineage": lineage})

    def removed_executors():
        """{executor id: remove reason} of the application's ended executors."""
        out = {}
        try:
            it = jsc.statusStore().executorList(False).iterator()
            while it.hasNext():
                x = it.next()
                r = x.removeReason()
                if r.isDefined():
                    out[x.id()] = r.get()
        except Exception:  # noqa: BLE001 - an internal API: best effort
            pass
        return out

    # removed: executors that ended before the request; gone: reasons of those
    # that ended during it; oom: set when one ran out of memory (the request's
    # jobs are then cancelled: Spark would retry the same partition on a new
    # executor up to 4 stage attempts, minutes, only to run out again).
    state = {"busy": False, "lost": None, "removed": {}, "gone": [], "oom": None,
             "gc_rounds": 0, "gc_at": 0.0}

    def collect_garbage():
        """Lets Spark's ContextCleaner see the dropped tables: py4j releases
        the Java objects of collected Python ones, the JVM's collection makes
        the RDDs and shuffles unreachable, the cleaner deletes their files.
        Two rounds, GC_INTERVAL apart, after the last request: py4j releases
        some Java objects only after the first."""
        state["gc_rounds"] -= 1
        state["gc_at"] = time.time()
        gc.collect()
        sc._jvm.System.gc()

    def watchdog():
        since = None
        while True:
            time.sleep(1)
            try:
                n = executors()
            except Exception:
                return
            if state["gc_rounds"] > 0 and time.time() - state["gc_at"] >= GC_INTERVAL:
                try:
                    collect_garbage()
                except Exception:  # noqa: BLE001 - the JVM collects on its own too
                    pass
            if state["busy"] and state["oom"] is None:
                for k, r in removed_executors().items():
                    if k in state["removed"]:
                        continue
                    state["removed"][k] = r
                    state["gone"].append(r)
                    if is_oom(r):
                        state["oom"] = r
                        sc.cancelAllJobs()
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
        if lineage == "local":
            # Lazy: the collect below computes, stores and cuts in one pass.
            df = df.localCheckpoint(eager=False, storageLevel=storage_level)
        else:
            df = df.persist(storage_level)
        df.createOrReplaceTempView(name)
        views[name] = df
        try:
            # One row per partition: collecting (p, c) is small and needs no shuffle.
            return {"counts": [[r[0], r[1]] for r in df.select("p", "c").collect()]}
        except Exception:
            # No table for fedflow to drop: the partitions stored before the
            # failure go now.
            drop(name)
            raise

    def drop(name):
        df = views.pop(name, None)
        if df is None:
            return
        spark.catalog.dropTempView(name)
        if lineage == "local":
            # A checkpointed table is its plan's RDD, persisted.
            try:
                df._jdf.queryExecution().analyzed().rdd().unpersist(False)
            except Exception:  # noqa: BLE001 - the cleaner unpersists it on collection
                pass
        else:
            df.unpersist()

    def handle(req):
        op = req["op"]
        if "shuffle" in req:
            # A Spark task per fedflow partition costs a task launch and a worker
            # process each; a few tasks per executor core keep the cores busy.
            # The worker takes any number of whole partitions, in order.
            tasks = max(1, int(req["shuffle"]))
            if TASKS_PER_CORE > 0:
                tasks = min(tasks, sc.defaultParallelism * TASKS_PER_CORE)
            spark.conf.set("spark.sql.shuffle.partitions", str(tasks))
        if op == "load":
            df = spark.read.text(req["path"]).selectExpr("split(value, '\\t') AS a").selectExpr(
                "CAST(a[0] AS INT) AS p", "CAST(a[1] AS BIGINT) AS tag",
                "CAST(a[2] AS BIGINT) AS c", "a[3] AS b")
            # Spread the partitions over tasks (a small file is one split).
            df = df.repartition(int(spark.conf.get("spark.sql.shuffle.partitions")), "p")
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
            drop(req["view"])
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
        state["removed"] = removed_executors()
        state["gone"] = []
        state["oom"] = None
        state["lost"] = None
        state["busy"] = True
        try:
            out = handle(req)
            reply({"ok": out})
        except Exception as e:  # noqa: BLE001 - every failure goes back as one line
            state["busy"] = False
            # Reasons arrive a little after the failure; collect the last ones.
            for k, r in removed_executors().items():
                if k not in state["removed"]:
                    state["removed"][k] = r
                    state["gone"].append(r)
            failure = None if state["lost"] else executor_failure(e, state["gone"])
            if failure:
                reply({"error": one_line(e), "kind": failure[0], "detail": failure[1]})
            else:
                reply({"error": state["lost"] or one_line(e)})
        finally:
            state["busy"] = False
            # The request's shuffle files (and a dropped or failed table's
            # blocks) are garbage once it is done and the lineage cut.
            state["gc_rounds"] = 2
    spark.stop()


if __name__ == "__main__":
    main()
