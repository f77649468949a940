/**
 * The application's event sources, indexed once per model so that an event finds its node(s) in O(1):
 * bucket → s3Dataset nodes (longest prefix first), upstream storage bucket → imported upstream data
 * nodes, timer rule name → timer, alarm name → alarm nodes, Glue database.table → glueTable nodes.
 */
import { INTERNAL_DATA_PREFIX } from "../../../flow/model/deployment-contract";
import type {
  AlarmNodeModel,
  CompositeAlarmNodeModel,
  ExternalAlarmNodeModel,
  FlowModel,
  GlueTableNodeModel,
  S3DatasetNodeModel,
  TimerNodeModel,
  UpstreamDataNodeModel,
} from "../../../flow/model/flow-model";
import { resourceNames, upstreamBucket } from "../../../flow/model/resource-names";

export interface SourceIndexProps {
  /**
   * The application's FlowModel, with its environment's dataset bindings applied (`bindDatasets`):
   * events are matched against the bound locations.
   */
  readonly model: FlowModel;
  /** The application's storage bucket. */
  readonly storageBucket: string;
}

export type AlarmSourceNode = AlarmNodeModel | CompositeAlarmNodeModel | ExternalAlarmNodeModel;

/** Prefix of the data nodes' partitions in the storage bucket (the deployment contract's). */
export { INTERNAL_DATA_PREFIX };

export class SourceIndex {
  readonly model: FlowModel;
  readonly storageBucket: string;
  /** Name of the router's sweeper schedule (its scheduled events are not timers). */
  readonly sweeperRule: string;
  private readonly byBucket = new Map<string, S3DatasetNodeModel[]>();
  private readonly byUpstreamBucket = new Map<string, UpstreamDataNodeModel[]>();
  private readonly byRule = new Map<string, TimerNodeModel>();
  private readonly byAlarmName = new Map<string, AlarmSourceNode[]>();
  private readonly byTable = new Map<string, GlueTableNodeModel[]>();

  constructor(props: SourceIndexProps) {
    this.model = props.model;
    this.storageBucket = props.storageBucket;
    const app = props.model.application.name;
    this.sweeperRule = resourceNames.sweeperRule(app);
    for (const node of Object.values(props.model.nodes)) {
      switch (node.kind) {
        case "s3Dataset":
          push(this.byBucket, node.bucket, { ...node, prefix: trimSlashes(node.prefix) });
          break;
        case "upstreamData":
          push(this.byUpstreamBucket, upstreamBucket(node.upstream), node);
          break;
        case "timer":
          this.byRule.set(resourceNames.timerRule(app, node.id), node);
          break;
        case "alarm":
        case "compositeAlarm":
        case "externalAlarm":
          push(this.byAlarmName, node.alarmName, node);
          break;
        case "glueTable":
          push(this.byTable, tableKey(node.database, node.table), node);
          break;
        default:
          break;
      }
    }
    for (const nodes of this.byBucket.values()) {
      nodes.sort((a, b) => b.prefix.length - a.prefix.length || (a.id < b.id ? -1 : 1));
    }
    for (const nodes of this.byUpstreamBucket.values()) nodes.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** s3Dataset nodes on a bucket, longest prefix first. */
  datasetsOn(bucket: string): readonly S3DatasetNodeModel[] {
    return this.byBucket.get(bucket) ?? [];
  }

  /**
   * Imported upstream data nodes (`app.importUpstream`) whose partitions are in a bucket (an upstream's
   * storage bucket, where its data nodes' completion markers are created), by local id.
   */
  importsOn(bucket: string): readonly UpstreamDataNodeModel[] {
    return this.byUpstreamBucket.get(bucket) ?? [];
  }

  /** True for keys of the data nodes' partitions, which the router writes itself. */
  isInternalData(bucket: string, key: string): boolean {
    return bucket === this.storageBucket && key.startsWith(INTERNAL_DATA_PREFIX);
  }

  /** The timer an EventBridge rule or Scheduler schedule of this name fires. */
  timerForRule(name: string): TimerNodeModel | undefined {
    return this.byRule.get(name);
  }

  /** The expected rule name of every timer, for reasons. */
  get timerRules(): readonly string[] {
    return [...this.byRule.keys()];
  }

  /**
   * Alarm nodes of an alarm name. The application's own alarms match by name; external alarms also by
   * account when the event names one.
   */
  alarmsNamed(name: string, account: string | undefined): readonly AlarmSourceNode[] {
    const nodes = this.byAlarmName.get(name) ?? [];
    return nodes.filter((n) => n.kind !== "externalAlarm" || account === undefined || n.account === account);
  }

  /** True when some alarm node has this name, whatever its account. */
  hasAlarmNamed(name: string): boolean {
    return this.byAlarmName.has(name);
  }

  /** glueTable nodes of a catalog table (names compare case-insensitively, as Glue lowercases them). */
  glueTables(database: string, table: string): readonly GlueTableNodeModel[] {
    return this.byTable.get(tableKey(database, table)) ?? [];
  }
}

function tableKey(database: string, table: string): string {
  return `${database.toLowerCase()}\u0000${table.toLowerCase()}`;
}

function trimSlashes(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, "");
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const existing = map.get(key);
  if (existing) existing.push(value);
  else map.set(key, [value]);
}
