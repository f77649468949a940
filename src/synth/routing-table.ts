/**
 * The routing table: the router's DynamoDB table (single-table design of docs/runtime.md), on demand,
 * with point-in-time recovery, encryption under the application's key and TTL on history items.
 */
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { ROUTING_TABLE_SCHEMA } from "../flow/model/routing-table-schema";
import { Construct } from "./cdktf";
import type { Naming } from "./naming";

export interface RoutingTableProps {
  readonly naming: Naming;
  /** Key that encrypts the table (SSE-KMS). */
  readonly key: KmsKey;
  /** Refuse `terraform destroy` of the table. @default true */
  readonly deletionProtection?: boolean;
}

export class RoutingTable extends Construct {
  readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: RoutingTableProps) {
    super(scope, id);
    const s = ROUTING_TABLE_SCHEMA;
    this.table = new DynamodbTable(this, "table", {
      name: props.naming.names.routingTable(props.naming.app),
      billingMode: "PAY_PER_REQUEST",
      hashKey: s.partitionKey,
      rangeKey: s.sortKey,
      attribute: [
        { name: s.partitionKey, type: s.keyType },
        { name: s.sortKey, type: s.keyType },
      ],
      ttl: { attributeName: s.ttlAttribute, enabled: true },
      pointInTimeRecovery: { enabled: true }, // CKV_AWS_28
      serverSideEncryption: { enabled: true, kmsKeyArn: props.key.arn }, // CKV_AWS_119
      deletionProtectionEnabled: props.deletionProtection ?? true,
      tags: props.naming.tags(),
    });
  }
}
