"""Spark reading a hive-partitioned folder as `spark.read.parquet(folder)` does, run in a venv
with pyspark (tests/integration/test_tree_readers.py). Prints JSON: rows per value of the hive
key `key`, and the key's Spark type.

Usage: python spark_reader.py FOLDER KEY
"""

import json
import sys

from pyspark.sql import SparkSession


def main(folder: str, key: str) -> None:
    spark = (SparkSession.builder.master("local[1]").appName("tree-reader")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        frame = spark.read.parquet(folder)
        counts = {str(row[0]): row[1] for row in frame.groupBy(key).count().collect()}
        print(json.dumps({"rows": counts, "type": frame.schema[key].dataType.simpleString()}))
    finally:
        spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
