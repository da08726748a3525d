"""The five questions of docs/export.md, in DuckDB SQL and in Spark SQL (PySpark), run on the
datasets docs/export-examples.sh builds in the current directory (ds/, hist/)."""
import sys

SNAP = "read_parquet('ds/**/*.parquet', hive_partitioning = true)"
HIST = "read_parquet('hist/**/*.parquet', hive_partitioning = true)"

QUESTIONS = [
    (
        "1. Sizes by namespace (the k8s cluster's snapshot)",
        """
SELECT coalesce(k8s_namespace, '(cluster-scoped)') AS namespace,
       count(*) AS objects, sum(value_size) AS bytes, max(value_size) AS largest
FROM {snap}
WHERE cluster = 'k8s' AND k8s_resource IS NOT NULL
GROUP BY 1 ORDER BY bytes DESC, namespace
""",
    ),
    (
        "2. History bloat by resource (what a compaction would give back)",
        """
WITH h AS (
  SELECT *, row_number() OVER (PARTITION BY cluster, key
                               ORDER BY revision DESC, sub_revision DESC) = 1 AS newest
  FROM {hist})
SELECT cluster, k8s_resource AS resource, count(*) AS revisions,
       count(*) FILTER (WHERE tombstone) AS deletions,
       coalesce(sum(value_size) FILTER (WHERE newest AND NOT tombstone), 0) AS live_bytes,
       coalesce(sum(value_size) FILTER (WHERE NOT newest), 0) AS history_bytes
FROM h WHERE k8s_resource IS NOT NULL
GROUP BY 1, 2 ORDER BY history_bytes DESC, cluster, resource LIMIT 8
""",
    ),
    (
        "3. Secrets not encrypted at rest",
        """
SELECT cluster, k8s_namespace AS namespace, k8s_name AS name, encoding, value_size
FROM {snap}
WHERE k8s_resource = 'secrets' AND encoding <> 'encrypted'
ORDER BY cluster, namespace, name
""",
    ),
    (
        "4. Objects changed between two snapshots of one cluster (h2: taken = head revision)",
        """
WITH s AS (SELECT * FROM {snap} WHERE cluster = 'h2'),
     a AS (SELECT * FROM s WHERE taken = (SELECT min(taken) FROM s)),
     b AS (SELECT * FROM s WHERE taken = (SELECT max(taken) FROM s))
SELECT coalesce(a.k8s_resource, b.k8s_resource) AS resource,
       count(*) FILTER (WHERE a.key IS NULL) AS added,
       count(*) FILTER (WHERE b.key IS NULL) AS deleted,
       count(*) FILTER (WHERE a.value <> b.value) AS value_changed,
       count(*) FILTER (WHERE a.value = b.value AND a.mod_revision <> b.mod_revision)
         AS rewritten_same_value
FROM a FULL OUTER JOIN b ON a.key = b.key
GROUP BY 1 HAVING added + deleted + value_changed + rewritten_same_value > 0
ORDER BY resource
""",
    ),
    (
        "5. Largest objects in the newest snapshot of each cluster",
        """
WITH s AS (SELECT *, max(taken) OVER (PARTITION BY cluster) AS newest FROM {snap})
SELECT cluster, key_text, kind, value_size
FROM s WHERE taken = newest
ORDER BY value_size DESC, key_text LIMIT 5
""",
    ),
]


def duckdb_run():
    import duckdb

    print("DuckDB", duckdb.__version__)
    con = duckdb.connect()
    for title, sql in QUESTIONS:
        q = sql.format(snap=SNAP, hist=HIST).strip()
        print(f"\n### {title}\n")
        print(q)
        con.sql(q).show(max_width=200)


def spark_run():
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    print("Spark", spark.version)
    spark.read.parquet("ds").createOrReplaceTempView("snap")
    spark.read.parquet("hist").createOrReplaceTempView("hist")
    for title, sql in QUESTIONS:
        q = sql.format(snap="snap", hist="hist").strip()
        print(f"\n### {title}\n")
        print(q)
        spark.sql(q).show(truncate=False)
    spark.stop()


if __name__ == "__main__":
    {"duckdb": duckdb_run, "spark": spark_run}[sys.argv[1]]()
