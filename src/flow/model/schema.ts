/**
 * JSON Schema (draft-07) of the FlowModel (see ./flow-model.ts), for tools that read a model without
 * the TypeScript types: the CLI's `model` output, synth inputs, the router's route table.
 *
 * Plain data on purpose: this module is shipped in the runtime bundle, so it imports nothing but
 * types and holds no code. Every object is closed (`additionalProperties: false`) and lists exactly
 * the TS properties, with `required` = the non-`?` ones, so drift between the types and the schema
 * fails validation (and test/flow/schema.test.ts checks both directions at compile time).
 * Numbers are `number` wherever the TS type says `number`; the schema does not restate DSL checks
 * (integer counts, AWS name patterns) that the types do not express.
 *
 * Discriminated unions are `oneOf` over closed branches that each pin the discriminator with
 * `const`: `kind` for nodes, mappers and alarm metrics, `op` for alarm rules, `type` for dimensions.
 */

export const FLOW_MODEL_SCHEMA_ID = "https://sluice.dev/schemas/flow-model-1.json";

/** Properties every node has (NodeModelBase); spread into each node definition, which is closed. */
const nodeBaseProperties = {
  id: { type: "string" },
  signal: { $ref: "#/definitions/Signal" },
  metadata: { $ref: "#/definitions/JsonObject" },
} as const;

const nodeBaseRequired = ["id", "kind", "signal", "metadata"] as const;

export const flowModelSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: FLOW_MODEL_SCHEMA_ID,
  title: "Sluice FlowModel",
  description: "The plain-JSON contract between the Sluice DSL, synth and the router.",
  type: "object",
  additionalProperties: false,
  required: ["schemaVersion", "application", "environments", "nodes"],
  properties: {
    schemaVersion: { const: 1 },
    application: {
      type: "object",
      additionalProperties: false,
      required: ["name", "account", "region", "metricsNamespace"],
      properties: {
        name: { type: "string" },
        account: { type: "string" },
        region: { type: "string" },
        metricsNamespace: { type: "string", description: "CloudWatch namespace of route metrics." },
        downstream: {
          description: "Authorized downstream applications, sorted by name.",
          type: "array",
          items: { $ref: "#/definitions/Downstream" },
        },
      },
    },
    environments: {
      type: "object",
      additionalProperties: { $ref: "#/definitions/Environment" },
    },
    nodes: {
      type: "object",
      description: "Nodes by id, sorted by id.",
      additionalProperties: { $ref: "#/definitions/Node" },
    },
  },
  definitions: {
    // ------------------------------------------------------------ plain values

    JsonValue: {
      anyOf: [
        { type: "string" },
        { type: "number" },
        { type: "boolean" },
        { type: "null" },
        { type: "array", items: { $ref: "#/definitions/JsonValue" } },
        { $ref: "#/definitions/JsonObject" },
      ],
    },
    JsonObject: {
      type: "object",
      additionalProperties: { $ref: "#/definitions/JsonValue" },
    },
    StringRecord: {
      type: "object",
      additionalProperties: { type: "string" },
    },

    // ------------------------------------------------------------ dimensions and signals

    DimensionType: { enum: ["STRING", "LONG", "DATETIME"] },
    Granularity: { enum: ["MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"] },
    DimensionValue: {
      description: "A concrete dimension value; DATETIME values are strings in the dimension's format.",
      oneOf: [{ type: "string" }, { type: "number" }],
    },
    StringDimension: {
      type: "object",
      additionalProperties: false,
      required: ["name", "type"],
      properties: {
        name: { type: "string" },
        type: { const: "STRING" },
      },
    },
    LongDimension: {
      type: "object",
      additionalProperties: false,
      required: ["name", "type"],
      properties: {
        name: { type: "string" },
        type: { const: "LONG" },
        digits: {
          type: "number",
          description: "Zero-padded width used when the value is rendered into a path.",
        },
      },
    },
    DatetimeDimension: {
      type: "object",
      additionalProperties: false,
      required: ["name", "type", "format", "granularity"],
      properties: {
        name: { type: "string" },
        type: { const: "DATETIME" },
        format: { type: "string", description: "strftime format of the value in paths and events." },
        granularity: { $ref: "#/definitions/Granularity" },
        timezone: { type: "string", description: "Informational IANA zone; arithmetic is DST-free." },
      },
    },
    Dimension: {
      oneOf: [
        { $ref: "#/definitions/StringDimension" },
        { $ref: "#/definitions/LongDimension" },
        { $ref: "#/definitions/DatetimeDimension" },
      ],
    },
    DimensionFilter: {
      description: '"*" admits every value; a list admits exactly those canonical values.',
      oneOf: [
        { type: "string", const: "*" },
        { type: "array", items: { $ref: "#/definitions/DimensionValue" } },
      ],
    },
    DimensionFilters: {
      description: "Filter per dimension; dimensions absent here are unfiltered. Sorted keys.",
      type: "object",
      additionalProperties: { $ref: "#/definitions/DimensionFilter" },
    },
    Range: {
      description: "Relative window around the tip value, inclusive, in periods of the dimension.",
      type: "object",
      additionalProperties: false,
      required: ["from", "to"],
      properties: {
        from: { type: "number" },
        to: { type: "number" },
      },
    },
    SignalKind: { enum: ["s3", "glueTable", "timer", "metric", "alarm", "internal"] },
    Signal: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "dimensions", "filter"],
      properties: {
        kind: { $ref: "#/definitions/SignalKind" },
        dimensions: { type: "array", items: { $ref: "#/definitions/Dimension" } },
        filter: { $ref: "#/definitions/DimensionFilters" },
      },
    },

    // ------------------------------------------------------------ mappers and links

    EqMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind"],
      properties: { kind: { const: "eq" } },
    },
    MapMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "entries", "injective"],
      properties: {
        kind: { const: "map" },
        entries: {
          description: "[from, to] pairs sorted by from.",
          type: "array",
          items: {
            type: "array",
            items: [{ $ref: "#/definitions/DimensionValue" }, { $ref: "#/definitions/DimensionValue" }],
            minItems: 2,
            additionalItems: false,
          },
        },
        injective: { type: "boolean" },
      },
    },
    ShiftMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "amount"],
      properties: {
        kind: { const: "shift" },
        amount: { type: "number" },
        unit: { $ref: "#/definitions/Granularity" },
      },
    },
    TruncateMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "granularity"],
      properties: {
        kind: { const: "truncate" },
        granularity: { $ref: "#/definitions/Granularity" },
      },
    },
    ConcatMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "separator"],
      properties: {
        kind: { const: "concat" },
        separator: { type: "string" },
      },
    },
    SplitMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "separator", "index"],
      properties: {
        kind: { const: "split" },
        separator: { type: "string" },
        index: { type: "number" },
      },
    },
    CombineMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind"],
      properties: { kind: { const: "combine" } },
    },
    LiteralMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "value"],
      properties: {
        kind: { const: "literal" },
        value: { $ref: "#/definitions/DimensionValue" },
      },
    },
    CustomMapper: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "ref"],
      properties: {
        kind: { const: "custom" },
        ref: { type: "string" },
        inverse: { type: "string" },
      },
    },
    Mapper: {
      oneOf: [
        { $ref: "#/definitions/EqMapper" },
        { $ref: "#/definitions/MapMapper" },
        { $ref: "#/definitions/ShiftMapper" },
        { $ref: "#/definitions/TruncateMapper" },
        { $ref: "#/definitions/ConcatMapper" },
        { $ref: "#/definitions/SplitMapper" },
        { $ref: "#/definitions/CombineMapper" },
        { $ref: "#/definitions/LiteralMapper" },
        { $ref: "#/definitions/CustomMapper" },
      ],
    },
    DimensionRef: {
      description: "A dimension of one input of a data node, by alias.",
      type: "object",
      additionalProperties: false,
      required: ["input", "dimension"],
      properties: {
        input: { type: "string" },
        dimension: { type: "string" },
      },
    },
    Link: {
      description: "target = mapper(sources…).",
      type: "object",
      additionalProperties: false,
      required: ["target", "sources", "mapper", "auto"],
      properties: {
        target: { $ref: "#/definitions/DimensionRef" },
        sources: { type: "array", items: { $ref: "#/definitions/DimensionRef" } },
        mapper: { $ref: "#/definitions/Mapper" },
        auto: { type: "boolean" },
      },
    },
    OutputLink: {
      description: "output[dimension] = mapper(sources…); a literal mapper has no sources.",
      type: "object",
      additionalProperties: false,
      required: ["dimension", "sources", "mapper", "auto"],
      properties: {
        dimension: { type: "string" },
        sources: { type: "array", items: { $ref: "#/definitions/DimensionRef" } },
        mapper: { $ref: "#/definitions/Mapper" },
        auto: { type: "boolean" },
      },
    },

    // ------------------------------------------------------------ data node parts

    Input: {
      type: "object",
      additionalProperties: false,
      required: ["alias", "node", "reference", "rangeCheck", "filter", "ranges"],
      properties: {
        alias: { type: "string" },
        node: { type: "string" },
        reference: { type: "boolean" },
        rangeCheck: { type: "boolean" },
        filter: { $ref: "#/definitions/DimensionFilters" },
        ranges: {
          description: "Relative ranges per dimension. Sorted keys.",
          type: "object",
          additionalProperties: { $ref: "#/definitions/Range" },
        },
      },
    },
    Engine: { enum: ["glue", "athena", "emr", "emrServerless", "lambda"] },
    ComputeKind: { enum: ["sparkSql", "pySpark", "prestoSql", "inline"] },
    ModuleCodeRef: {
      description: 'A module reference "path/to/module.ts#export", relative to the application root.',
      type: "object",
      additionalProperties: false,
      required: ["module", "export"],
      properties: {
        module: { type: "string" },
        export: { type: "string" },
      },
    },
    FunctionCodeRef: {
      description: "A local-only function, by its key in the application's local function registry.",
      type: "object",
      additionalProperties: false,
      required: ["function"],
      properties: {
        function: { type: "string" },
      },
    },
    CodeRef: {
      oneOf: [{ $ref: "#/definitions/ModuleCodeRef" }, { $ref: "#/definitions/FunctionCodeRef" }],
    },
    EmrConfig: {
      type: "object",
      additionalProperties: false,
      properties: {
        releaseLabel: { type: "string" },
        instanceType: { type: "string" },
        masterInstanceType: { type: "string" },
        instanceCount: { type: "number" },
        clusterId: { type: "string" },
        serverless: { type: "boolean" },
      },
    },
    PolicyStatement: {
      type: "object",
      additionalProperties: false,
      required: ["effect", "actions", "resources"],
      properties: {
        effect: { enum: ["Allow", "Deny"] },
        actions: { type: "array", items: { type: "string" } },
        resources: { type: "array", items: { type: "string" } },
      },
    },
    ComputeParams: {
      type: "object",
      additionalProperties: false,
      properties: {
        workers: { type: "number" },
        workerType: { type: "string" },
        glueVersion: { type: "string" },
        emr: { $ref: "#/definitions/EmrConfig" },
        sparkArgs: { $ref: "#/definitions/StringRecord" },
        timeoutSeconds: { type: "number" },
        extra: { $ref: "#/definitions/JsonObject" },
      },
    },
    ComputeTarget: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "engine", "params", "permissions"],
      properties: {
        kind: { $ref: "#/definitions/ComputeKind" },
        engine: { $ref: "#/definitions/Engine" },
        code: { type: "string", description: "SQL or PySpark source; absent for inline targets." },
        handler: { $ref: "#/definitions/CodeRef" },
        params: { $ref: "#/definitions/ComputeParams" },
        permissions: { type: "array", items: { $ref: "#/definitions/PolicyStatement" } },
      },
    },
    HookName: {
      enum: [
        "onExecBegin",
        "onExecSkipped",
        "onComputeSuccess",
        "onComputeFailure",
        "onComputeRetry",
        "onSuccess",
        "onFailure",
        "onPendingCreated",
        "onPendingExpired",
      ],
    },
    Checkpoint: {
      type: "object",
      additionalProperties: false,
      required: ["afterSeconds", "handler"],
      properties: {
        afterSeconds: { type: "number" },
        handler: { $ref: "#/definitions/CodeRef" },
      },
    },
    Hooks: {
      type: "object",
      additionalProperties: false,
      required: ["handlers", "checkpoints"],
      properties: {
        handlers: {
          type: "object",
          propertyNames: { $ref: "#/definitions/HookName" },
          additionalProperties: { $ref: "#/definitions/CodeRef" },
        },
        checkpoints: { type: "array", items: { $ref: "#/definitions/Checkpoint" } },
      },
    },

    // ------------------------------------------------------------ metrics and alarms

    AlarmState: { enum: ["ALARM", "OK", "INSUFFICIENT_DATA"] },
    AlarmComparison: {
      enum: [
        "GreaterThanOrEqualToThreshold",
        "GreaterThanThreshold",
        "LessThanThreshold",
        "LessThanOrEqualToThreshold",
      ],
    },
    TreatMissingData: { enum: ["breaching", "notBreaching", "ignore", "missing"] },
    MetricRef: {
      type: "object",
      additionalProperties: false,
      required: ["namespace", "name", "dimensions", "source"],
      properties: {
        namespace: { type: "string" },
        name: { type: "string" },
        dimensions: { $ref: "#/definitions/StringRecord" },
        source: {
          type: "string",
          description: 'The node that declared the metric, or "$route:<node>" / "$platform:<group>".',
        },
        account: { type: "string" },
        region: { type: "string" },
      },
    },
    MetricStat: {
      type: "object",
      additionalProperties: false,
      required: ["metric", "statistic", "periodSeconds"],
      properties: {
        metric: { $ref: "#/definitions/MetricRef" },
        statistic: { type: "string" },
        periodSeconds: { type: "number" },
      },
    },
    SingleAlarmMetric: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "stat"],
      properties: {
        kind: { const: "single" },
        stat: { $ref: "#/definitions/MetricStat" },
      },
    },
    MathAlarmMetric: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "expression", "metrics", "periodSeconds"],
      properties: {
        kind: { const: "math" },
        expression: { type: "string" },
        metrics: {
          description: "id → metric; sorted keys.",
          type: "object",
          additionalProperties: { $ref: "#/definitions/MetricStat" },
        },
        periodSeconds: { type: "number" },
      },
    },
    AlarmMetric: {
      oneOf: [{ $ref: "#/definitions/SingleAlarmMetric" }, { $ref: "#/definitions/MathAlarmMetric" }],
    },
    StateAlarmRule: {
      type: "object",
      additionalProperties: false,
      required: ["op", "state", "alarm"],
      properties: {
        op: { const: "state" },
        state: { $ref: "#/definitions/AlarmState" },
        alarm: { type: "string" },
      },
    },
    JunctionAlarmRule: {
      type: "object",
      additionalProperties: false,
      required: ["op", "terms"],
      properties: {
        op: { enum: ["and", "or"] },
        terms: { type: "array", items: { $ref: "#/definitions/AlarmRule" } },
      },
    },
    NotAlarmRule: {
      type: "object",
      additionalProperties: false,
      required: ["op", "term"],
      properties: {
        op: { const: "not" },
        term: { $ref: "#/definitions/AlarmRule" },
      },
    },
    ConstAlarmRule: {
      type: "object",
      additionalProperties: false,
      required: ["op", "value"],
      properties: {
        op: { const: "const" },
        value: { type: "boolean" },
      },
    },
    AlarmRule: {
      oneOf: [
        { $ref: "#/definitions/StateAlarmRule" },
        { $ref: "#/definitions/JunctionAlarmRule" },
        { $ref: "#/definitions/NotAlarmRule" },
        { $ref: "#/definitions/ConstAlarmRule" },
      ],
    },

    // ------------------------------------------------------------ nodes

    DataFormat: { enum: ["parquet", "csv", "json", "orc", "avro", "text"] },
    S3DatasetNode: {
      type: "object",
      additionalProperties: false,
      required: [
        ...nodeBaseRequired,
        "account",
        "region",
        "bucket",
        "prefix",
        "partitions",
        "format",
        "completion",
      ],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "s3Dataset" },
        account: { type: "string" },
        region: { type: "string" },
        bucket: { type: "string" },
        prefix: { type: "string" },
        partitions: {
          description: "One template per dimension, in order; {} is replaced by the value.",
          type: "array",
          items: { type: "string" },
        },
        format: { $ref: "#/definitions/DataFormat" },
        completion: {
          description: "Completion marker file name; null when every object signals the partition.",
          oneOf: [{ type: "string" }, { type: "null" }],
        },
        encryptionKey: { type: "string" },
      },
    },
    GlueTableNode: {
      type: "object",
      additionalProperties: false,
      required: [...nodeBaseRequired, "account", "region", "database", "table"],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "glueTable" },
        account: { type: "string" },
        region: { type: "string" },
        database: { type: "string" },
        table: { type: "string" },
      },
    },
    TimerNode: {
      type: "object",
      additionalProperties: false,
      required: [...nodeBaseRequired, "schedule"],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "timer" },
        schedule: { type: "string" },
      },
    },
    ExternalMetricNode: {
      type: "object",
      additionalProperties: false,
      required: [...nodeBaseRequired, "account", "region", "namespace", "subDimensions"],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "externalMetric" },
        account: { type: "string" },
        region: { type: "string" },
        namespace: { type: "string" },
        subDimensions: { $ref: "#/definitions/StringRecord" },
      },
    },
    MetricNode: {
      type: "object",
      additionalProperties: false,
      required: [...nodeBaseRequired, "namespace", "subDimensions"],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "metric" },
        namespace: { type: "string" },
        subDimensions: { $ref: "#/definitions/StringRecord" },
      },
    },
    ExternalAlarmNode: {
      type: "object",
      additionalProperties: false,
      required: [...nodeBaseRequired, "account", "region", "alarmName", "arn"],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "externalAlarm" },
        account: { type: "string" },
        region: { type: "string" },
        alarmName: { type: "string" },
        arn: { type: "string" },
      },
    },
    AlarmNode: {
      type: "object",
      additionalProperties: false,
      required: [
        ...nodeBaseRequired,
        "alarmName",
        "metric",
        "threshold",
        "comparison",
        "evaluationPeriods",
        "datapointsToAlarm",
        "treatMissingData",
      ],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "alarm" },
        alarmName: { type: "string" },
        metric: { $ref: "#/definitions/AlarmMetric" },
        threshold: { type: "number" },
        comparison: { $ref: "#/definitions/AlarmComparison" },
        evaluationPeriods: { type: "number" },
        datapointsToAlarm: { type: "number" },
        treatMissingData: { $ref: "#/definitions/TreatMissingData" },
        description: { type: "string" },
      },
    },
    CompositeAlarmNode: {
      type: "object",
      additionalProperties: false,
      required: [...nodeBaseRequired, "alarmName", "rule", "alarmRule"],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "compositeAlarm" },
        alarmName: { type: "string" },
        rule: { $ref: "#/definitions/AlarmRule" },
        alarmRule: {
          type: "string",
          description: "The rendered CloudWatch AlarmRule, with alarm names or ARNs.",
        },
        description: { type: "string" },
      },
    },
    DataNode: {
      type: "object",
      additionalProperties: false,
      required: [
        ...nodeBaseRequired,
        "inputs",
        "links",
        "outputLinks",
        "autoLink",
        "compute",
        "hooks",
        "retries",
        "pendingTtlSeconds",
        "format",
        "path",
      ],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "data" },
        inputs: { type: "array", items: { $ref: "#/definitions/Input" } },
        links: { type: "array", items: { $ref: "#/definitions/Link" } },
        outputLinks: { type: "array", items: { $ref: "#/definitions/OutputLink" } },
        autoLink: { type: "boolean" },
        compute: { type: "array", items: { $ref: "#/definitions/ComputeTarget" } },
        hooks: { $ref: "#/definitions/Hooks" },
        retries: { type: "number" },
        pendingTtlSeconds: { type: "number" },
        format: { $ref: "#/definitions/DataFormat" },
        path: { type: "string", description: "Prefix inside the storage bucket: internal_data/<id>." },
      },
    },
    UpstreamRef: {
      type: "object",
      additionalProperties: false,
      required: ["application", "account", "region"],
      properties: {
        application: { type: "string" },
        account: { type: "string" },
        region: { type: "string" },
        bucket: {
          type: "string",
          description: "The upstream's storage bucket, when it is not the derived <app>-<account>-<region>.",
        },
      },
    },
    UpstreamDataNode: {
      type: "object",
      additionalProperties: false,
      required: [...nodeBaseRequired, "upstream", "node", "path", "format"],
      properties: {
        ...nodeBaseProperties,
        kind: { const: "upstreamData" },
        upstream: { $ref: "#/definitions/UpstreamRef" },
        node: { type: "string", description: "The node's id in the upstream application." },
        format: { $ref: "#/definitions/DataFormat" },
        path: {
          type: "string",
          description: "Prefix inside the upstream's storage bucket: internal_data/<node>.",
        },
      },
    },
    Node: {
      oneOf: [
        { $ref: "#/definitions/S3DatasetNode" },
        { $ref: "#/definitions/GlueTableNode" },
        { $ref: "#/definitions/TimerNode" },
        { $ref: "#/definitions/ExternalMetricNode" },
        { $ref: "#/definitions/MetricNode" },
        { $ref: "#/definitions/ExternalAlarmNode" },
        { $ref: "#/definitions/AlarmNode" },
        { $ref: "#/definitions/CompositeAlarmNode" },
        { $ref: "#/definitions/DataNode" },
        { $ref: "#/definitions/UpstreamDataNode" },
      ],
    },

    // ------------------------------------------------------------ application

    Downstream: {
      type: "object",
      additionalProperties: false,
      required: ["name", "account", "region"],
      properties: {
        name: { type: "string" },
        account: { type: "string" },
        region: { type: "string" },
      },
    },
    DatasetBinding: {
      type: "object",
      additionalProperties: false,
      properties: {
        account: { type: "string" },
        region: { type: "string" },
        bucket: { type: "string" },
        prefix: { type: "string" },
        format: { $ref: "#/definitions/DataFormat" },
        encryptionKey: { type: "string" },
        database: { type: "string" },
        table: { type: "string" },
      },
    },
    Environment: {
      type: "object",
      additionalProperties: false,
      required: ["name", "account", "region", "datasets", "config", "compute"],
      properties: {
        name: { type: "string" },
        account: { type: "string" },
        region: { type: "string" },
        datasets: {
          type: "object",
          additionalProperties: { $ref: "#/definitions/DatasetBinding" },
        },
        config: { $ref: "#/definitions/JsonObject" },
        compute: {
          type: "object",
          additionalProperties: { $ref: "#/definitions/ComputeParams" },
        },
      },
    },
  },
} as const;
