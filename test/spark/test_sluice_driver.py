"""Unit tests of the Spark driver (src/runtime-bundle/spark/sluice_driver.py), stdlib only.

PySpark is not needed: a fake SparkSession / DataFrame / reader / writer records every call.
Run: python3 -B -m unittest discover -s test/spark -p "test_*.py" -v
"""

import ast
import base64
import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of src/

DRIVER_PATH = os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "src", "runtime-bundle", "spark", "sluice_driver.py")
)
_PYSPARK_BEFORE = "pyspark" in sys.modules
_module_spec = importlib.util.spec_from_file_location("sluice_driver", DRIVER_PATH)
driver = importlib.util.module_from_spec(_module_spec)
_module_spec.loader.exec_module(driver)


# ---------------------------------------------------------------- fakes


class FakeConf:
    def __init__(self):
        self.values = {}

    def set(self, key, value):
        self.values[key] = value

    def get(self, key, default=None):
        return self.values.get(key, default)


class FakeSession:
    """Records reads, SQL, views, writes; `failing_paths` make reads fail like a missing S3 prefix."""

    def __init__(self, failing_paths=(), old_spark=False):
        self.conf = FakeConf()
        self.loads = []  # (format, options, path)
        self.sql_calls = []
        self.views = {}
        self.writes = []  # dicts: df, path, format, mode, options
        self.stopped = 0
        self.failing_paths = set(failing_paths)
        self.old_spark = old_spark

    @property
    def read(self):
        return FakeReader(self)

    def sql(self, query):
        self.sql_calls.append(query)
        return FakeDataFrame(self, ("sql", query))

    def stop(self):
        self.stopped += 1


class FakeReader:
    def __init__(self, session):
        self.session = session
        self.fmt = None
        self.options = {}

    def format(self, fmt):
        self.fmt = fmt
        return self

    def option(self, key, value):
        self.options[key] = value
        return self

    def load(self, path):
        if path in self.session.failing_paths:
            raise RuntimeError("[PATH_NOT_FOUND] Path does not exist: %s" % path)
        self.session.loads.append((self.fmt, dict(self.options), path))
        return FakeDataFrame(self.session, ("read", self.fmt, path))


class FakeDataFrame:
    def __init__(self, session, source):
        self.session = session
        self.source = source
        self.schema = "fake-schema"

    def unionByName(self, other, **kwargs):
        if self.session.old_spark and kwargs:
            raise TypeError("unionByName() got an unexpected keyword argument 'allowMissingColumns'")
        return FakeDataFrame(self.session, ("union", self, other, kwargs.get("allowMissingColumns", False)))

    def createOrReplaceTempView(self, name):
        self.session.views[name] = self

    def select(self, *cols):
        return FakeDataFrame(self.session, ("select", self, cols))

    @property
    def write(self):
        return FakeWriter(self)

    def __repr__(self):
        return "FakeDataFrame(%r)" % (self.source,)


class FakeWriter:
    def __init__(self, df):
        self.df = df
        self.record = {"df": df, "mode": None, "format": None, "options": {}}

    def mode(self, mode):
        self.record["mode"] = mode
        return self

    def format(self, fmt):
        self.record["format"] = fmt
        return self

    def option(self, key, value):
        self.record["options"][key] = value
        return self

    def save(self, path):
        self.record["path"] = path
        self.df.session.writes.append(self.record)


# ---------------------------------------------------------------- helpers


OUT = "s3://store/internal_data/weekly/NA/2024-05-07"


def make_spec(**overrides):
    spec = {
        "version": 1,
        "executionId": "exec-1",
        "node": "weekly",
        "kind": "sparkSql",
        "code": "SELECT * FROM events",
        "inputs": {
            "events": {
                "node": "events",
                "paths": ["s3://raw/events/region=NA/2024-05-07"],
                "format": "parquet",
                "dimensions": {"region": "NA", "day": "2024-05-07"},
                "reference": False,
            },
            "daily": {"node": "daily", "paths": [], "format": None, "dimensions": {"day": "2024-05-07"},
                      "reference": False},
        },
        "output": {"path": OUT, "format": "parquet", "dimensions": {"region": "NA", "day": "2024-05-07"}},
        "dimensions": {"region": "NA", "day": "2024-05-07"},
        "env": "prod",
        "config": {"threshold": 10, "db": {"host": "db.prod"}},
        "attempt": 2,
    }
    spec.update(overrides)
    return spec


def argv_for(spec, *extra):
    return list(extra) + ["--sluice_spec", driver.encode_spec(spec)]


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def run_main(spec, session=None):
    session = session or FakeSession()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = driver.main(argv_for(spec), session_factory=lambda _spec: session)
    return code, session, err.getvalue()


# ---------------------------------------------------------------- argument protocol


class ArgumentProtocolTest(unittest.TestCase):
    def test_encoding_roundtrip(self):
        spec = make_spec(code="SELECT 'é ✓' AS s -- unicode survives")
        parsed = driver.parse_args(argv_for(spec))
        self.assertEqual(parsed, spec)

    def test_glue_style_argv_with_other_arguments(self):
        spec = make_spec()
        argv = [
            "/tmp/sluice_driver.py",
            "--JOB_ID", "j_0123456789abcdef",
            "--JOB_RUN_ID", "jr_0123456789abcdef",
            "--job-bookmark-option", "job-bookmark-disable",
            "--TempDir", "s3://aws-glue-temporary/admin",
            "--sluice_spec", driver.encode_spec(spec),
            "--JOB_NAME", "sluice-weekly",
            "--enable-metrics", "true",
        ]
        self.assertEqual(driver.parse_args(argv)["node"], "weekly")

    def test_equals_form_and_url_safe_unpadded_base64(self):
        spec = make_spec(code="SELECT '??>>' AS x")  # bytes that encode to '+' / '/' in standard base64
        raw = json.dumps(spec).encode("utf-8")
        value = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        self.assertEqual(driver.parse_args(["--sluice_spec=" + value]), spec)

    def test_missing_argument(self):
        with self.assertRaisesRegex(driver.SpecError, "missing argument --sluice_spec"):
            driver.parse_args(["script.py", "--JOB_ID", "j_1"])

    def test_argument_without_value(self):
        with self.assertRaisesRegex(driver.SpecError, "--sluice_spec has no value"):
            driver.parse_args(["--sluice_spec"])
        with self.assertRaisesRegex(driver.SpecError, "--sluice_spec has no value"):
            driver.parse_args(["--sluice_spec", "--JOB_ID", "j_1"])

    def test_argument_given_twice(self):
        value = driver.encode_spec(make_spec())
        with self.assertRaisesRegex(driver.SpecError, "given 2 times"):
            driver.parse_args(["--sluice_spec", value, "--sluice_spec", value])

    def test_undecodable_values(self):
        cases = [
            ("not base64 !!!", "not valid base64"),
            (b64("{not json"), "does not decode to JSON"),
            (base64.b64encode(b"\xff\xfe{}").decode("ascii"), "UTF-8"),
            (b64("[1, 2]"), "must be a JSON object, got an array"),
        ]
        for value, message in cases:
            with self.subTest(value=value):
                with self.assertRaisesRegex(driver.SpecError, message):
                    driver.parse_args(["--sluice_spec", value])

    def test_bad_version(self):
        for version in (2, 0, "1", True, None):
            with self.subTest(version=version):
                with self.assertRaisesRegex(driver.SpecError, "unsupported SparkJobSpec version"):
                    driver.parse_args(argv_for(make_spec(version=version)))
        spec = make_spec()
        del spec["version"]
        with self.assertRaisesRegex(driver.SpecError, "has no version"):
            driver.parse_args(argv_for(spec))

    def test_missing_required_keys_are_all_named(self):
        spec = make_spec()
        for key in ("executionId", "code", "output"):
            del spec[key]
        with self.assertRaises(driver.SpecError) as caught:
            driver.parse_args(argv_for(spec))
        self.assertIn("missing required key(s): executionId, code, output", str(caught.exception))

    def test_invalid_values_are_all_listed(self):
        spec = make_spec(kind="scala", code="   ", attempt=-1)
        spec["inputs"]["events"]["paths"] = "s3://raw/events"
        spec["inputs"]["events"]["format"] = "xml"
        spec["output"]["path"] = ""
        with self.assertRaises(driver.SpecError) as caught:
            driver.parse_args(argv_for(spec))
        message = str(caught.exception)
        for expected in ('node "weekly"', "kind must be one of sparkSql, pySpark", "code must be non-empty",
                         "inputs.events.paths must be a list", "inputs.events.format must be null or one of",
                         "output.path must be a non-empty string", "attempt must be a non-negative integer"):
            self.assertIn(expected, message)

    def test_optional_keys_get_defaults(self):
        spec = make_spec()
        for key in ("dimensions", "env", "config", "attempt"):
            del spec[key]
        parsed = driver.parse_args(argv_for(spec))
        self.assertEqual((parsed["dimensions"], parsed["env"], parsed["config"], parsed["attempt"]),
                         ({}, None, {}, 1))


# ---------------------------------------------------------------- inputs


class LoadInputsTest(unittest.TestCase):
    def test_a_view_per_alias_with_paths_and_none_without(self):
        spec = make_spec()
        spec["inputs"]["customers"] = {"node": "crm_customers", "paths": ["s3://crm/customers/region_id=1"],
                                       "format": "orc", "dimensions": {}, "reference": True}
        session = FakeSession()
        frames = driver.load_inputs(session, spec)
        self.assertEqual(sorted(frames), ["customers", "events"])
        self.assertEqual(sorted(session.views), ["customers", "events"])
        self.assertIs(session.views["events"], frames["events"])
        self.assertNotIn("daily", session.views)

    def test_range_unions_all_three_paths_by_name(self):
        paths = ["s3://raw/events/region=NA/2024-05-07", "s3://raw/events/region=NA/2024-05-06",
                 "s3://raw/events/region=NA/2024-05-05"]
        spec = make_spec()
        spec["inputs"]["events"]["paths"] = paths
        session = FakeSession()
        df = driver.load_inputs(session, spec)["events"]
        self.assertEqual([path for _, _, path in session.loads], paths)  # tip first, every partition
        # ((p0 ∪ p1) ∪ p2), each union by name with missing columns allowed
        self.assertEqual(df.source[0], "union")
        self.assertTrue(df.source[3])
        left, last = df.source[1], df.source[2]
        self.assertEqual(last.source, ("read", "parquet", paths[2]))
        self.assertEqual(left.source[0], "union")
        self.assertTrue(left.source[3])
        self.assertEqual([left.source[1].source[2], left.source[2].source[2]], paths[:2])
        self.assertIs(session.views["events"], df)

    def test_union_falls_back_on_spark_without_allow_missing_columns(self):
        spec = make_spec()
        spec["inputs"]["events"]["paths"] = ["s3://a/1", "s3://a/2"]
        df = driver.load_inputs(FakeSession(old_spark=True), spec)["events"]
        self.assertEqual(df.source[0], "union")
        self.assertFalse(df.source[3])

    def test_formats_map_to_reader_calls(self):
        expected = {
            "parquet": ("parquet", {}),
            "csv": ("csv", {"header": "true", "inferSchema": "true"}),
            "json": ("json", {}),
            "orc": ("orc", {}),
            "avro": ("avro", {}),
            "text": ("text", {}),
        }
        for fmt, (reader_format, options) in expected.items():
            with self.subTest(format=fmt):
                spec = make_spec()
                spec["inputs"]["events"]["format"] = fmt
                session = FakeSession()
                driver.load_inputs(session, spec)
                self.assertEqual(session.loads, [(reader_format, options, "s3://raw/events/region=NA/2024-05-07")])

    def test_null_format_is_guessed_from_the_first_data_file(self):
        spec = make_spec()
        spec["inputs"]["events"]["format"] = None
        original = driver.list_data_files
        try:
            driver.list_data_files = lambda spark, path, limit=1: ["part-00000.csv.gz"]
            session = FakeSession()
            driver.load_inputs(session, spec)
            self.assertEqual(session.loads[0][0], "csv")

            def broken(spark, path, limit=1):
                raise RuntimeError("no JVM")

            driver.list_data_files = broken
            session = FakeSession()
            driver.load_inputs(session, spec)
            self.assertEqual(session.loads[0][0], "parquet")
        finally:
            driver.list_data_files = original
        self.assertEqual(driver.format_of_file("data.json"), "json")
        self.assertEqual(driver.format_of_file("part-0.snappy.parquet"), "parquet")
        self.assertEqual(driver.format_of_file("lines.txt"), "text")

    def test_unreadable_path_names_the_input(self):
        spec = make_spec()
        spec["inputs"]["events"]["paths"] = ["s3://raw/ok", "s3://raw/missing"]
        with self.assertRaises(driver.InputError) as caught:
            driver.load_inputs(FakeSession(failing_paths=["s3://raw/missing"]), spec)
        self.assertIn('input "events" (node "events"): cannot read s3://raw/missing as parquet', str(caught.exception))


# ---------------------------------------------------------------- execution and output


class ExecutionTest(unittest.TestCase):
    def test_spark_sql_runs_the_query_and_writes_its_result(self):
        code, session, _ = run_main(make_spec(code="SELECT * FROM events;\n"))
        self.assertEqual(code, 0)
        self.assertEqual(session.sql_calls, ["SELECT * FROM events"])
        self.assertEqual(len(session.writes), 1)
        self.assertEqual(session.writes[0]["df"].source, ("sql", "SELECT * FROM events"))

    def test_py_spark_namespace_and_output(self):
        code = "\n".join([
            "assert spark is ctx.spark",
            "assert dimensions == {'region': 'NA', 'day': '2024-05-07'}",
            "assert args['executionId'] == 'exec-1' and env == 'prod'",
            "assert config['threshold'] == 10 and config('missing', 'dflt') == 'dflt'",
            "assert 'daily' not in globals()  # no data, no DataFrame",
            "def pick(df):",
            "    return df.select('cid')  # functions see the namespace too",
            "output = pick(events)",
        ])
        _, session, err = run_main(make_spec(kind="pySpark", code=code))
        self.assertEqual(session.sql_calls, [], err)
        self.assertEqual(len(session.writes), 1, err)
        written = session.writes[0]["df"]
        self.assertEqual(written.source[0], "select")
        self.assertIs(written.source[1], session.views["events"])

    def test_py_spark_without_output_is_a_clear_error(self):
        spec = make_spec(kind="pySpark", code="result = events")
        session = FakeSession()
        with self.assertRaisesRegex(driver.UserCodeError, 'node "weekly" did not assign `output`'):
            driver.run_job(session, spec)
        code, session, err = run_main(spec)
        self.assertEqual(code, 1)
        self.assertIn("did not assign `output`", err)
        self.assertEqual(session.writes, [])
        self.assertEqual(session.stopped, 1)

    def test_py_spark_output_must_be_a_dataframe(self):
        with self.assertRaisesRegex(driver.UserCodeError, "assigned a number 42 to `output`"):
            driver.run_job(FakeSession(), make_spec(kind="pySpark", code="output = 42"))

    def test_user_code_exception_fails_with_traceback(self):
        code, session, err = run_main(make_spec(kind="pySpark", code="raise ValueError('boom')"))
        self.assertEqual(code, 1)
        self.assertIn("Traceback", err)
        self.assertIn("<sluice pySpark code of node weekly>", err)
        self.assertIn("FAILED: ValueError: boom", err)
        self.assertEqual(session.writes, [])
        self.assertEqual(session.stopped, 1)

    def test_reserved_alias_stays_reachable_through_ctx(self):
        spec = make_spec(kind="pySpark", code="assert callable(config)\noutput = ctx.load_dataset('config')")
        spec["inputs"]["config"] = {"node": "settings", "paths": ["s3://cfg/1"], "format": "json",
                                    "dimensions": {}, "reference": True}
        session = FakeSession()
        with contextlib.redirect_stderr(io.StringIO()) as err:
            driver.run_job(session, spec)
        self.assertIn('input alias "config" is a reserved name', err.getvalue())
        self.assertIs(session.writes[0]["df"], session.views["config"])

    def test_writer_gets_output_path_format_overwrite_and_no_marker_is_written(self):
        for fmt in ("parquet", "csv", "json", "orc", "avro"):
            with self.subTest(format=fmt):
                spec = make_spec()
                spec["output"]["format"] = fmt
                code, session, err = run_main(spec)
                self.assertEqual(code, 0, err)
                self.assertEqual(len(session.writes), 1)
                write = session.writes[0]
                self.assertEqual((write["path"], write["format"], write["mode"]), (OUT, fmt, "overwrite"))
                # The router writes Sluice's _SUCCESS after the execution succeeds; the driver writes none
                # and keeps Hadoop's committer from writing its own.
                self.assertEqual(write["options"].get(driver.SUCCESS_MARKER_CONF), "false")
                self.assertEqual(session.conf.get(driver.SUCCESS_MARKER_CONF), "false")
                self.assertFalse(any("_SUCCESS" in w["path"] for w in session.writes))
                self.assertEqual(write["options"].get("header"), "true" if fmt == "csv" else None)

    def test_null_output_format_writes_parquet(self):
        spec = make_spec()
        spec["output"]["format"] = None
        _, session, _ = run_main(spec)
        self.assertEqual(session.writes[0]["format"], "parquet")


# ---------------------------------------------------------------- runtime context


class RuntimeContextTest(unittest.TestCase):
    def make_ctx(self, spec=None):
        spec = spec or driver.validate_spec(make_spec())
        session = FakeSession()
        inputs = driver.load_inputs(session, spec)
        return driver.RuntimeContext(session, spec, inputs), session, inputs

    def test_attributes_and_config(self):
        ctx, _, _ = self.make_ctx()
        self.assertEqual((ctx.env, ctx.attempt, ctx.dimensions["region"]), ("prod", 2, "NA"))
        self.assertEqual((ctx.execution_id, ctx.node, ctx.output_path), ("exec-1", "weekly", OUT))
        self.assertEqual(ctx.config("threshold"), 10)
        self.assertEqual(ctx.config("db.host"), "db.prod")
        self.assertIsNone(ctx.config("nope"))
        self.assertEqual(ctx.config("nope", 5), 5)
        self.assertEqual(ctx.config("db.port", 5432), 5432)

    def test_load_dataset_by_alias_and_by_node_id(self):
        spec = make_spec()
        spec["inputs"]["last7"] = {"node": "joined", "paths": ["s3://s/internal_data/joined/NA/2024-05-07"],
                                   "format": "parquet", "dimensions": {}, "reference": False}
        ctx, _, inputs = self.make_ctx(driver.validate_spec(spec))
        self.assertIs(ctx.load_dataset("last7"), inputs["last7"])
        self.assertIs(ctx.load_dataset("joined"), inputs["last7"])
        self.assertIs(ctx.load_dataset("events"), inputs["events"])

    def test_load_dataset_errors(self):
        spec = make_spec()
        spec["inputs"]["events_prev"] = dict(spec["inputs"]["events"], paths=["s3://raw/events/region=NA/2024-05-06"])
        ctx, _, inputs = self.make_ctx(driver.validate_spec(spec))
        self.assertIs(ctx.load_dataset("events"), inputs["events"])  # an alias wins over node ids
        spec["inputs"]["events"]["node"] = "raw_events"
        spec["inputs"]["events_prev"]["node"] = "raw_events"
        ctx, _, _ = self.make_ctx(driver.validate_spec(spec))
        with self.assertRaisesRegex(driver.DatasetNotFoundError, r"several inputs \(events, events_prev\)"):
            ctx.load_dataset("raw_events")
        with self.assertRaisesRegex(driver.DatasetNotFoundError, 'input "daily" .* has no data'):
            ctx.load_dataset("daily")
        with self.assertRaisesRegex(driver.DatasetNotFoundError, 'no input named "nope".*"events" \\(node "raw_events"\\)'):
            ctx.load_dataset("nope")
        self.assertIsInstance(driver.DatasetNotFoundError("x"), LookupError)

    def test_persist_dataset_writes_under_output_datasets_after_the_output(self):
        code = "\n".join([
            "path = ctx.persist_dataset('rejects', events.select('bad'))",
            "assert path == ctx.output_path + '/_datasets/rejects', path",
            "output = events",
        ])
        spec = make_spec(kind="pySpark", code=code)
        spec["output"]["format"] = "json"
        code_, session, err = run_main(spec)
        self.assertEqual(code_, 0, err)
        self.assertEqual([w["path"] for w in session.writes], [OUT, OUT + "/_datasets/rejects"])
        persisted = session.writes[1]
        self.assertEqual((persisted["format"], persisted["mode"]), ("json", "overwrite"))
        self.assertEqual(persisted["df"].source[0], "select")
        self.assertEqual(persisted["options"].get(driver.SUCCESS_MARKER_CONF), "false")

    def test_persist_dataset_rejects_bad_names_values_and_duplicates(self):
        ctx, _, inputs = self.make_ctx()
        for name in ("", "a/b", "_hidden", ".dot", "a..b", None):
            with self.subTest(name=name):
                with self.assertRaises(ValueError):
                    ctx.persist_dataset(name, inputs["events"])
        with self.assertRaises(TypeError):
            ctx.persist_dataset("ok", [1, 2])
        ctx.persist_dataset("ok", inputs["events"])
        with self.assertRaisesRegex(ValueError, "already persisted"):
            ctx.persist_dataset("ok", inputs["events"])


# ---------------------------------------------------------------- main and module


class MainTest(unittest.TestCase):
    def test_success_builds_session_from_spec_and_stops_it(self):
        seen = []
        session = FakeSession()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = driver.main(argv_for(make_spec()), session_factory=lambda spec: seen.append(spec) or session)
        self.assertEqual(code, 0)
        self.assertEqual(seen[0]["node"], "weekly")
        self.assertEqual(session.stopped, 1)
        self.assertIn("wrote parquet output to " + OUT, err.getvalue())

    def test_invalid_spec_exits_2_without_a_session(self):
        created = []
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = driver.main(["--JOB_ID", "j_1"], session_factory=lambda spec: created.append(spec))
        self.assertEqual(code, 2)
        self.assertEqual(created, [])
        self.assertIn("missing argument --sluice_spec", err.getvalue())

    def test_input_error_exits_1_and_stops_the_session(self):
        spec = make_spec()
        code, session, err = run_main(spec, FakeSession(failing_paths=spec["inputs"]["events"]["paths"]))
        self.assertEqual((code, session.stopped), (1, 1))
        self.assertIn('FAILED: input "events"', err)
        self.assertNotIn("Traceback", err)

    @unittest.skipIf(importlib.util.find_spec("pyspark") is not None, "PySpark is installed here")
    def test_without_pyspark_main_fails_clearly(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = driver.main(argv_for(make_spec()))
        self.assertEqual(code, 1)
        self.assertIn("PySpark is not available", err.getvalue())

    def test_module_imports_without_pyspark(self):
        if not _PYSPARK_BEFORE:
            self.assertNotIn("pyspark", sys.modules)

    def test_driver_keeps_to_python_3_7_syntax(self):
        with open(DRIVER_PATH, encoding="utf-8") as f:
            ast.parse(f.read(), filename=DRIVER_PATH, feature_version=(3, 7))

    def test_script_entry_point_exit_status(self):
        bad = subprocess.run([sys.executable, "-B", DRIVER_PATH, "--JOB_ID", "j_1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("sluice-driver: error: missing argument --sluice_spec", bad.stderr)
        bad_version = subprocess.run([sys.executable, "-B", DRIVER_PATH] + argv_for(make_spec(version=9)),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                     timeout=60)
        self.assertEqual(bad_version.returncode, 2)
        self.assertIn("unsupported SparkJobSpec version 9", bad_version.stderr)


if __name__ == "__main__":
    unittest.main()
