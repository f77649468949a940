"""Sluice Spark driver: the entry point of every Glue / EMR job that runs a sparkSql or pySpark target.

The router starts the job with one argument, ``--sluice_spec <base64 JSON>``. Glue passes job
arguments as ``--key value`` pairs in ``sys.argv`` (next to its own: ``--JOB_ID``, ``--JOB_RUN_ID``,
``--JOB_NAME``, ``--job-bookmark-option``, ``--TempDir``, ...); EMR passes them as script arguments.
Everything but ``--sluice_spec`` is ignored. The decoded JSON (the "SparkJobSpec", version 1)::

    { "version": 1, "executionId": str, "node": str, "kind": "sparkSql" | "pySpark", "code": str,
      "inputs": { alias: { "node": str, "paths": [s3 URI, ...  tip first], "reference": bool,
                           "format": "parquet"|"csv"|"json"|"orc"|"avro"|"text"|null,
                           "dimensions": {...} } },
      "output": { "path": s3 URI, "format": str | null, "dimensions": {...} },
      "dimensions": {...}, "env": str, "config": {...}, "attempt": int }

``version``, ``executionId``, ``node``, ``kind``, ``code``, ``inputs`` and ``output`` are required;
``dimensions`` and ``config`` default to ``{}``, ``env`` to ``None``, ``attempt`` to ``1``.

What the driver does:

1. every input with paths becomes a DataFrame (all paths of a range read and unioned by column name,
   like the local DuckDB dispatcher) registered as a temporary view named by its alias; inputs
   without paths (timers, alarms) get no view;
2. ``sparkSql``: ``output = spark.sql(code)``; ``pySpark``: ``exec(code)`` in a namespace holding
   ``spark``, every input DataFrame by alias, ``dimensions``, ``args`` (the spec), ``ctx`` (a
   :class:`RuntimeContext`), ``env`` and ``config``; the code must assign a DataFrame to ``output``;
3. ``output`` is written to ``output.path`` in ``output.format`` (Parquet when null) with mode
   "overwrite", then the datasets staged with ``ctx.persist_dataset`` are written.

Completion marker: the driver writes NO marker. The router writes Sluice's ``_SUCCESS`` at the output
path once the whole execution (every compute target of the node) has succeeded. Because Sluice's marker
has the same name as the one Hadoop's FileOutputCommitter writes by default, and because a
``_SUCCESS`` under ``internal_data/<node>/...`` is read as "this partition is complete" (S3 events,
range checks), the driver also turns the committer's marker off
(``mapreduce.fileoutputcommitter.marksuccessfuljobs=false``) for its writes: otherwise a partition
would look complete as soon as this job finished, before the router had recorded the execution (or
while a later target of the same node could still fail).

Exit status: 0 on success, 1 when the job fails (the error and, for unexpected errors, the traceback
are printed to stderr), 2 when the arguments or the spec are invalid.

PySpark is imported lazily, inside :func:`main` only, so that this module can be imported and tested
without it. The code keeps to Python 3.7 syntax (Glue 3.0 and EMR on Amazon Linux 2 run 3.7).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import sys
import traceback

SPEC_ARG = "--sluice_spec"
SPEC_VERSION = 1
KINDS = ("sparkSql", "pySpark")
FORMATS = ("parquet", "csv", "json", "orc", "avro", "text")
DEFAULT_FORMAT = "parquet"
REQUIRED_KEYS = ("version", "executionId", "node", "kind", "code", "inputs", "output")

#: Sub-folder of the output path where ``ctx.persist_dataset(name, df)`` writes ``name``. Names that
#: start with "_" are skipped by Spark, Hive and Sluice's own readers when they read the output path,
#: so persisted datasets never leak into the node's output.
DATASETS_DIR = "_datasets"

#: Hadoop setting that makes the FileOutputCommitter write its own ``_SUCCESS`` (default true).
SUCCESS_MARKER_CONF = "mapreduce.fileoutputcommitter.marksuccessfuljobs"

#: Names the pySpark namespace always binds; an input alias equal to one of them stays reachable
#: through ``ctx.load_dataset(alias)``.
RESERVED_NAMES = ("spark", "dimensions", "args", "ctx", "env", "config", "output")

_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]*$")


class SluiceDriverError(Exception):
    """A failure the driver explains itself (printed without a traceback)."""


class SpecError(SluiceDriverError, ValueError):
    """Invalid arguments or SparkJobSpec."""


class InputError(SluiceDriverError):
    """An input could not be read."""


class UserCodeError(SluiceDriverError):
    """The target's code did not produce what the driver needs (e.g. no ``output`` DataFrame)."""


class DatasetNotFoundError(SluiceDriverError, LookupError):
    """``ctx.load_dataset(name)`` named no input with data."""


# ---------------------------------------------------------------- arguments and spec


def encode_spec(spec: dict) -> str:
    """The ``--sluice_spec`` value for ``spec`` (standard base64 of its UTF-8 JSON), as the router sends it."""
    return base64.b64encode(json.dumps(spec, separators=(",", ":")).encode("utf-8")).decode("ascii")


def parse_args(argv) -> dict:
    """Finds ``--sluice_spec`` in ``argv`` (with or without ``argv[0]``), decodes and validates the spec.

    Accepts ``--sluice_spec VALUE`` and ``--sluice_spec=VALUE``; every other argument (Glue's
    ``--JOB_ID``, ``--job-bookmark-option``, ...) is ignored. The value is base64 (standard or URL-safe,
    padding optional) of a JSON object. Raises :class:`SpecError` naming every problem.
    """
    values = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == SPEC_ARG:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise SpecError("argument %s has no value" % SPEC_ARG)
            values.append(args[i + 1])
            i += 2
            continue
        if isinstance(arg, str) and arg.startswith(SPEC_ARG + "="):
            values.append(arg[len(SPEC_ARG) + 1 :])
        i += 1
    if not values:
        raise SpecError(
            "missing argument %s <base64 JSON SparkJobSpec> (arguments: %s)" % (SPEC_ARG, _shorten(args))
        )
    if len(values) > 1:
        raise SpecError("argument %s is given %d times; expected once" % (SPEC_ARG, len(values)))
    return validate_spec(decode_spec(values[0]))


def decode_spec(value: str) -> dict:
    """Base64 (standard or URL-safe, padding optional) → UTF-8 → JSON object."""
    text = re.sub(r"\s+", "", value or "")
    if text == "":
        raise SpecError("argument %s is empty" % SPEC_ARG)
    text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise SpecError("argument %s is not valid base64: %s" % (SPEC_ARG, e))
    try:
        spec = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise SpecError("argument %s does not decode to UTF-8 text: %s" % (SPEC_ARG, e))
    except ValueError as e:
        raise SpecError("argument %s does not decode to JSON: %s" % (SPEC_ARG, e))
    if not isinstance(spec, dict):
        raise SpecError("the SparkJobSpec must be a JSON object, got %s" % _json_type(spec))
    return spec


def validate_spec(spec: dict) -> dict:
    """Checks a decoded SparkJobSpec and fills the defaults; raises :class:`SpecError` listing every problem."""
    if not isinstance(spec, dict):
        raise SpecError("the SparkJobSpec must be a JSON object, got %s" % _json_type(spec))
    version = spec.get("version")
    if "version" not in spec:
        raise SpecError("the SparkJobSpec has no version (this driver reads version %d)" % SPEC_VERSION)
    if isinstance(version, bool) or version != SPEC_VERSION:
        raise SpecError(
            "unsupported SparkJobSpec version %s (this driver reads version %d)"
            % (json.dumps(version), SPEC_VERSION)
        )
    problems = []
    missing = [key for key in REQUIRED_KEYS if key not in spec]
    if missing:
        problems.append("missing required key(s): %s" % ", ".join(missing))

    def check(path, value, ok, expected):
        if not ok:
            problems.append("%s must be %s, got %s" % (path, expected, _describe(value)))
            return False
        return True

    for key in ("executionId", "node"):
        if key in spec:
            check(key, spec[key], _nonempty_str(spec[key]), "a non-empty string")
    if "kind" in spec:
        check("kind", spec["kind"], spec["kind"] in KINDS, "one of %s" % ", ".join(KINDS))
    if "code" in spec:
        check("code", spec["code"], _nonempty_str(spec["code"]) and spec["code"].strip() != "", "non-empty code")

    inputs = spec.get("inputs")
    if "inputs" in spec and check("inputs", inputs, isinstance(inputs, dict), "an object (alias → input)"):
        for alias, item in inputs.items():
            where = "inputs.%s" % alias
            if not alias:
                problems.append("inputs: an alias is empty")
            if not check(where, item, isinstance(item, dict), "an object"):
                continue
            check(where + ".node", item.get("node"), _nonempty_str(item.get("node")), "a non-empty string")
            paths = item.get("paths", [])
            if check(where + ".paths", paths, isinstance(paths, list), "a list of paths"):
                for n, path in enumerate(paths):
                    check("%s.paths[%d]" % (where, n), path, _nonempty_str(path), "a non-empty string")
            fmt = item.get("format")
            check(where + ".format", fmt, fmt is None or fmt in FORMATS, "null or one of %s" % ", ".join(FORMATS))
            dims = item.get("dimensions", {})
            check(where + ".dimensions", dims, isinstance(dims, dict), "an object")

    output = spec.get("output")
    if "output" in spec and check("output", output, isinstance(output, dict), "an object"):
        check("output.path", output.get("path"), _nonempty_str(output.get("path")), "a non-empty string")
        fmt = output.get("format")
        check("output.format", fmt, fmt is None or fmt in FORMATS, "null or one of %s" % ", ".join(FORMATS))
        dims = output.get("dimensions", {})
        check("output.dimensions", dims, isinstance(dims, dict), "an object")

    for key in ("dimensions", "config"):
        if spec.get(key) is not None:
            check(key, spec[key], isinstance(spec[key], dict), "an object")
    if spec.get("env") is not None:
        check("env", spec["env"], isinstance(spec["env"], str), "a string")
    if spec.get("attempt") is not None:
        attempt = spec["attempt"]
        check("attempt", attempt, isinstance(attempt, int) and not isinstance(attempt, bool) and attempt >= 0,
              "a non-negative integer")

    if problems:
        node = spec.get("node") if isinstance(spec.get("node"), str) else "?"
        raise SpecError(
            "invalid SparkJobSpec for node %s:\n  - %s" % (json.dumps(node), "\n  - ".join(problems))
        )

    result = dict(spec)
    result["dimensions"] = spec.get("dimensions") or {}
    result["config"] = spec.get("config") or {}
    result["env"] = spec.get("env")
    result["attempt"] = 1 if spec.get("attempt") is None else spec["attempt"]
    return result


# ---------------------------------------------------------------- inputs


def load_inputs(spark, spec: dict) -> dict:
    """Reads every input that has paths and registers it as a temporary view named by its alias.

    All paths of an input (a range: tip first) are read one by one and unioned by column name, columns
    missing from some partitions filled with nulls. The format is the input's, or, when null (e.g. a
    Glue table), guessed from the first data file's extension (Parquet by default). CSV is read with a
    header and an inferred schema; text gives one string column ``value`` per line. Inputs without paths
    (timers, alarms, metrics) get no view and no entry. Returns alias → DataFrame.
    """
    frames = {}
    for alias, item in spec.get("inputs", {}).items():
        paths = item.get("paths") or []
        if not paths:
            continue
        fmt = item.get("format") or infer_format(spark, paths)
        parts = []
        for path in paths:
            try:
                parts.append(_reader(spark, fmt).load(path))
            except Exception as e:
                raise InputError(
                    'input "%s" (node "%s"): cannot read %s as %s: %s' % (alias, item.get("node"), path, fmt, e)
                )
        df = functools.reduce(_union_by_name, parts)
        df.createOrReplaceTempView(alias)
        frames[alias] = df
    return frames


def _reader(spark, fmt: str):
    reader = spark.read.format(fmt)
    if fmt == "csv":
        reader = reader.option("header", "true").option("inferSchema", "true")
    return reader


def _union_by_name(left, right):
    try:
        return left.unionByName(right, allowMissingColumns=True)
    except TypeError:  # Spark < 3.1 has no allowMissingColumns
        return left.unionByName(right)


def format_of_file(name: str) -> str:
    """Format of a data file, from its name (as the local runtime guesses it); Parquet by default."""
    lower = re.sub(r"\.(gz|zst|snappy|bz2|deflate|lz4)$", "", name.lower())
    if lower.endswith(".csv"):
        return "csv"
    if re.search(r"\.(json|jsonl|ndjson)$", lower):
        return "json"
    if lower.endswith(".txt"):
        return "text"
    if lower.endswith(".orc"):
        return "orc"
    if lower.endswith(".avro"):
        return "avro"
    return DEFAULT_FORMAT


def infer_format(spark, paths) -> str:
    """Format of an input that declares none: from the first data file found under its paths."""
    for path in paths:
        try:
            files = list_data_files(spark, path)
        except Exception:
            return DEFAULT_FORMAT
        if files:
            return format_of_file(files[0])
    return DEFAULT_FORMAT


def list_data_files(spark, path: str, limit: int = 1) -> list:
    """Up to ``limit`` data file names under ``path`` (recursively; ``_``/``.`` names skipped), via Hadoop."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    root = jvm.org.apache.hadoop.fs.Path(path)
    fs = root.getFileSystem(conf)
    if not fs.exists(root):
        return []
    found = []
    pending = [root]
    while pending and len(found) < limit:
        statuses = sorted(fs.listStatus(pending.pop(0)), key=lambda s: s.getPath().getName())
        for status in statuses:
            name = status.getPath().getName()
            if name.startswith("_") or name.startswith("."):
                continue
            if status.isDirectory():
                pending.append(status.getPath())
            elif status.getLen() > 0:
                found.append(name)
    return found[:limit]


# ---------------------------------------------------------------- runtime context


class ConfigView(dict):
    """The environment's config values: a dict that can also be called, ``config("key", default)``."""

    def __call__(self, key, default=None):
        return lookup_config(self, key, default)


def lookup_config(config: dict, key: str, default=None):
    """``config[key]``; else, for a dotted key ``"a.b"``, ``config["a"]["b"]``; else ``default``."""
    if key in config:
        return config[key]
    node = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


class RuntimeContext:
    """What user code asks for by name, the same in every environment (``ctx`` in pySpark code).

    - ``env``: the environment name (e.g. "prod"); ``dimensions``: the execution's dimension values;
      ``attempt``: 1 for the first run, then 2, 3, ... on retries; ``execution_id``, ``node``,
      ``output_path``, ``output_format``, ``spec``.
    - ``config(key, default=None)``: a config value of the environment (dotted keys reach nested values).
    - ``load_dataset(name)``: the DataFrame of an input, by alias or by the id of its node.
    - ``persist_dataset(name, df)``: stages ``df`` to be written to ``<output.path>/_datasets/<name>``
      in the output format (mode overwrite) and returns that path. The write happens right after the
      node's output is written, in the same job: writing it at once would be wiped by the output's
      overwrite of ``output.path``. Each name may be persisted once per run.
    """

    def __init__(self, spark, spec: dict, inputs: dict):
        self.spark = spark
        self.spec = spec
        self.env = spec.get("env")
        self.dimensions = spec.get("dimensions") or {}
        self.attempt = spec.get("attempt", 1)
        self.execution_id = spec.get("executionId")
        self.node = spec.get("node")
        self.output_path = spec["output"]["path"]
        self.output_format = spec["output"].get("format") or DEFAULT_FORMAT
        self._config = ConfigView(spec.get("config") or {})
        self._inputs = inputs
        self._persisted = []

    def config(self, key: str, default=None):
        return self._config(key, default)

    def load_dataset(self, name: str):
        specs = self.spec.get("inputs", {})
        if name in specs:
            if name not in self._inputs:
                raise DatasetNotFoundError(
                    'input "%s" (node "%s") has no data: it is a signal without paths (timer, alarm, metric)'
                    % (name, specs[name].get("node"))
                )
            return self._inputs[name]
        aliases = sorted(alias for alias, item in specs.items() if item.get("node") == name)
        with_data = [alias for alias in aliases if alias in self._inputs]
        if len(with_data) == 1:
            return self._inputs[with_data[0]]
        if len(with_data) > 1:
            raise DatasetNotFoundError(
                'node "%s" is read by several inputs (%s); load it by alias' % (name, ", ".join(with_data))
            )
        if aliases:
            raise DatasetNotFoundError('node "%s" (input "%s") has no data: it is a signal without paths'
                                       % (name, aliases[0]))
        known = ", ".join('"%s" (node "%s")' % (alias, item.get("node")) for alias, item in sorted(specs.items()))
        raise DatasetNotFoundError(
            'no input named "%s" by alias or node id; inputs of node "%s": %s'
            % (name, self.node, known or "none")
        )

    def persist_dataset(self, name: str, df) -> str:
        if not isinstance(name, str) or not _DATASET_NAME.match(name) or ".." in name:
            raise ValueError(
                "persist_dataset: invalid dataset name %r (letters, digits, '_', '.', '=', '-'; "
                "no '/', not starting with '_' or '.')" % (name,)
            )
        if not _is_dataframe(df):
            raise TypeError("persist_dataset(%r): expected a DataFrame, got %s" % (name, type(df).__name__))
        if any(staged == name for staged, _ in self._persisted):
            raise ValueError("persist_dataset: dataset %r is already persisted in this run" % (name,))
        self._persisted.append((name, df))
        return self.dataset_path(name)

    def dataset_path(self, name: str) -> str:
        return "%s/%s/%s" % (self.output_path.rstrip("/"), DATASETS_DIR, name)

    @property
    def persisted(self) -> list:
        """(name, DataFrame) staged by ``persist_dataset``, in call order."""
        return list(self._persisted)


# ---------------------------------------------------------------- execution


def run_code(spark, spec: dict, inputs: dict, ctx: RuntimeContext):
    """Runs the target's code and returns its ``output`` DataFrame."""
    node = spec["node"]
    code = spec["code"]
    if spec["kind"] == "sparkSql":
        output = spark.sql(strip_trailing_semicolons(code))
        if not _is_dataframe(output):
            raise UserCodeError('sparkSql code of node "%s" returned %s, not a DataFrame' % (node, _describe(output)))
        return output
    namespace = build_namespace(spark, spec, inputs, ctx)
    exec(compile(code, "<sluice pySpark code of node %s>" % node, "exec"), namespace)
    if "output" not in namespace:
        raise UserCodeError(
            'pySpark code of node "%s" did not assign `output`: it must end with `output = <DataFrame>` '
            "(the DataFrame written to %s)" % (node, spec["output"]["path"])
        )
    output = namespace["output"]
    if not _is_dataframe(output):
        raise UserCodeError(
            'pySpark code of node "%s" assigned %s to `output`; it must be a DataFrame' % (node, _describe(output))
        )
    return output


def build_namespace(spark, spec: dict, inputs: dict, ctx: RuntimeContext) -> dict:
    """Globals of pySpark code: every input DataFrame by alias, then spark, dimensions, args, ctx, env, config."""
    namespace = {"__name__": "__sluice_user_code__"}
    for alias, df in inputs.items():
        if alias in RESERVED_NAMES:
            _log('input alias "%s" is a reserved name in pySpark code; use ctx.load_dataset("%s")' % (alias, alias))
            continue
        namespace[alias] = df
    namespace.update(
        spark=spark,
        dimensions=spec.get("dimensions") or {},
        args=spec,
        ctx=ctx,
        env=spec.get("env"),
        config=ConfigView(spec.get("config") or {}),
    )
    return namespace


def strip_trailing_semicolons(sql: str) -> str:
    return re.sub(r"[\s;]+$", "", sql)


def write_dataframe(df, path: str, fmt: str) -> None:
    """``df`` → ``path`` in ``fmt``, mode overwrite, without the committer's own ``_SUCCESS``."""
    writer = df.write.mode("overwrite").format(fmt).option(SUCCESS_MARKER_CONF, "false")
    if fmt == "csv":
        writer = writer.option("header", "true")
    writer.save(path)


def run_job(spark, spec: dict) -> dict:
    """Loads the inputs, runs the code, writes the output (then persisted datasets). No completion marker:
    the router writes Sluice's ``_SUCCESS`` once the execution has succeeded (see the module docstring)."""
    _disable_committer_marker(spark)
    inputs = load_inputs(spark, spec)
    ctx = RuntimeContext(spark, spec, inputs)
    output = run_code(spark, spec, inputs, ctx)
    fmt = spec["output"].get("format") or DEFAULT_FORMAT
    write_dataframe(output, spec["output"]["path"], fmt)
    datasets = {}
    for name, df in ctx.persisted:
        path = ctx.dataset_path(name)
        write_dataframe(df, path, fmt)
        datasets[name] = path
    return {"output": spec["output"]["path"], "format": fmt, "inputs": sorted(inputs), "datasets": datasets}


def _disable_committer_marker(spark) -> None:
    # Session-wide as well as per write (write_dataframe), so that writes made by user code follow suit.
    try:
        spark.conf.set(SUCCESS_MARKER_CONF, "false")
    except Exception:
        pass


def main(argv=None, session_factory=None) -> int:
    """Entry point. ``argv`` defaults to ``sys.argv[1:]``; ``session_factory(spec)`` (tests) replaces
    ``SparkSession.builder.appName(f"sluice-{node}").getOrCreate()``. Returns the exit status."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        spec = parse_args(args)
    except SpecError as e:
        _log("error: %s" % e)
        return 2
    label = 'node "%s" execution "%s" attempt %s' % (spec["node"], spec["executionId"], spec["attempt"])
    spark = None
    try:
        if session_factory is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError as e:
                raise SluiceDriverError("PySpark is not available to this Python interpreter: %s" % e)
            spark = SparkSession.builder.appName("sluice-%s" % spec["node"]).getOrCreate()
        else:
            spark = session_factory(spec)
        _log("%s: running %s target" % (label, spec["kind"]))
        result = run_job(spark, spec)
        _log("%s: wrote %s output to %s%s" % (
            label, result["format"], result["output"],
            "".join("; dataset %s to %s" % item for item in sorted(result["datasets"].items())),
        ))
        return 0
    except SluiceDriverError as e:
        _log("%s FAILED: %s" % (label, e))
        return 1
    except BaseException as e:  # user code may raise anything, even SystemExit
        traceback.print_exc(file=sys.stderr)
        _log("%s FAILED: %s: %s" % (label, type(e).__name__, e))
        return 1
    finally:
        if spark is not None:
            try:
                spark.stop()
            except Exception as e:
                _log("warning: stopping the Spark session failed: %s" % e)


# ---------------------------------------------------------------- helpers


def _is_dataframe(value) -> bool:
    # Duck-typed so that classic and Spark Connect DataFrames (and test fakes) all qualify.
    return (
        value is not None
        and not isinstance(value, type)
        and hasattr(value, "write")
        and hasattr(value, "schema")
        and callable(getattr(value, "createOrReplaceTempView", None))
    )


def _nonempty_str(value) -> bool:
    return isinstance(value, str) and value != ""


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _describe(value) -> str:
    if isinstance(value, (type(None), bool, int, float, str, list, dict)):
        text = json.dumps(value, default=str)
        return "%s %s" % (_json_type(value), text if len(text) <= 60 else text[:57] + "...")
    return "a %s" % type(value).__name__


def _shorten(args) -> str:
    text = " ".join(str(a) for a in args)
    return text if len(text) <= 200 else text[:197] + "..."


def _log(message: str) -> None:
    print("sluice-driver: %s" % message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
