/**
 * One least-privilege IAM role per component that runs code: the router Lambda, Glue jobs and (when
 * the flow uses EMR) EMR jobs. Components grant statements while they are built; `finalize()` renders
 * each role's inline policy once, with the flow's user `permissions` added verbatim.
 */
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { Engine, FlowModel } from "../flow/model/flow-model";
import { Construct, type TerraformResource } from "./cdktf";
import type { Naming } from "./naming";
import { trustPolicy, type Statement } from "./policy";
import { layoutPolicies } from "./policy-quota";

export type RoleName = "router" | "glue" | "emr";

export interface ExecutionRolesProps {
  readonly model: FlowModel;
  readonly naming: Naming;
}

const SERVICE: Readonly<Record<RoleName, string[]>> = {
  router: ["lambda.amazonaws.com"],
  glue: ["glue.amazonaws.com"],
  emr: ["emr-serverless.amazonaws.com", "elasticmapreduce.amazonaws.com"],
};

/** Which role runs a target on an engine. */
export function roleOfEngine(engine: Engine): RoleName {
  if (engine === "glue") return "glue";
  if (engine === "emr" || engine === "emrServerless") return "emr";
  return "router"; // inline code and Athena queries run as the router
}

export class ExecutionRoles extends Construct {
  readonly roles: Partial<Record<RoleName, IamRole>> = {};
  private readonly statements = new Map<RoleName, Statement[]>();
  private finalized = false;
  private readonly policies: Partial<Record<RoleName, TerraformResource[]>> = {};

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ExecutionRolesProps,
  ) {
    super(scope, id);
    const used = new Set<RoleName>(["router"]);
    for (const n of Object.values(props.model.nodes)) {
      if (n.kind === "data") for (const t of n.compute) used.add(roleOfEngine(t.engine));
    }
    for (const role of [...used].sort()) {
      this.roles[role] = new IamRole(this, role, {
        name: props.naming.accountWideName(`${role}-role`, 64),
        assumeRolePolicy: trustPolicy(SERVICE[role], props.naming.account),
        tags: props.naming.tags(),
      });
      this.statements.set(role, []);
    }
    // User permissions, verbatim, on the role that runs the target.
    for (const n of Object.values(props.model.nodes)) {
      if (n.kind !== "data") continue;
      for (const t of n.compute) {
        t.permissions.forEach((p, i) =>
          this.grant(roleOfEngine(t.engine), {
            sid: sid(`User${n.id}Target${n.compute.indexOf(t) + 1}Permission${i + 1}`),
            effect: p.effect,
            actions: p.actions,
            resources: p.resources,
          }),
        );
      }
    }
  }

  has(role: RoleName): boolean {
    return this.roles[role] !== undefined;
  }

  role(role: RoleName): IamRole {
    const r = this.roles[role];
    if (!r) throw new Error(`the flow uses no ${role} role`);
    return r;
  }

  /** Adds a statement to a role's policy (ignored for a role the flow does not use). */
  grant(role: RoleName, statement: Statement): void {
    if (this.finalized) throw new Error("ExecutionRoles already finalized");
    this.statements.get(role)?.push(statement);
  }

  /** Statements granted so far (for tests and reviews). */
  statementsOf(role: RoleName): readonly Statement[] {
    return this.statements.get(role) ?? [];
  }

  /**
   * Renders each role's permissions, call once after every component has granted: one inline policy
   * while it fits IAM's quota, else managed policies attached to the role (policy-quota.ts).
   */
  finalize(): void {
    this.finalized = true;
    for (const [role, statements] of this.statements) {
      if (statements.length === 0) continue;
      const layout = layoutPolicies(role, uniqueSids(statements));
      if (layout.kind === "inline") {
        this.policies[role] = [
          new IamRolePolicy(this, `${role}-policy`, {
            name: this.props.naming.name(`${role}-policy`, 128),
            role: this.role(role).id,
            policy: layout.document,
          }),
        ];
        continue;
      }
      this.policies[role] = layout.documents.map((document, i) => {
        const policy = new IamPolicy(this, `${role}-policy-${i + 1}`, {
          name: this.props.naming.accountWideName(`${role}-policy-${i + 1}`, 128),
          description: `Sluice ${this.props.naming.app}: permissions of the ${role} role, part ${i + 1} of ${layout.documents.length}`,
          policy: document,
          tags: this.props.naming.tags(),
        });
        return new IamRolePolicyAttachment(this, `${role}-policy-${i + 1}-attachment`, {
          role: this.role(role).name,
          policyArn: policy.arn,
        });
      });
    }
  }

  /** The resources that grant a role its permissions (for `depends_on`): after finalize. */
  policiesOf(role: RoleName): readonly TerraformResource[] {
    return this.policies[role] ?? [];
  }
}

/** IAM rejects a policy whose statement ids repeat: later repeats get a numeric suffix. */
function uniqueSids(statements: readonly Statement[]): Statement[] {
  const seen = new Map<string, number>();
  return statements.map((st) => {
    if (st.sid === undefined) return st;
    const n = (seen.get(st.sid) ?? 0) + 1;
    seen.set(st.sid, n);
    return n === 1 ? st : { ...st, sid: `${st.sid}${n}` };
  });
}

function sid(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, "");
}
