/**
 * Names and tags of everything a SluiceStack creates: deterministic (same flow, same names), within
 * AWS limits, tagged with application, environment and (where it belongs to one) node.
 */
import type { FlowModel } from "../flow/model/flow-model";
import { boundedName, resourceNames } from "../flow/model/resource-names";
import { Fn, Token } from "./cdktf";

export class Naming {
  readonly app: string;

  constructor(
    readonly model: FlowModel,
    /** Environment name; "default" for the application's own account. May be a token (module variable). */
    readonly environment: string,
    readonly account: string,
    readonly region: string,
    /**
     * The synthesized environment as declared (never a token): the key of `model.environments` whose
     * dataset bindings and compute sizing synth applies. @default environment
     */
    readonly environmentName: string = environment,
  ) {
    this.app = model.application.name;
  }

  /**
   * The storage bucket: a global namespace, so account and region are part of it (63 chars). In a
   * module they are known only at plan time (tokens), so Terraform cuts the name instead.
   */
  get bucket(): string {
    if (Token.isUnresolved(this.account) || Token.isUnresolved(this.region)) {
      return Fn.substr(`${this.app}-${this.account}-${this.region}`, 0, 63);
    }
    return boundedName([this.app, this.account, this.region], 63);
  }

  get names(): typeof resourceNames {
    return resourceNames;
  }

  /** `<app>-<what>` within `max` characters. */
  name(what: string, max = 64): string {
    return boundedName([this.app, what], max);
  }

  /** Tags for a resource; `node` when it serves one node of the flow. */
  tags(node?: string): Record<string, string> {
    return {
      "sluice:application": this.app,
      "sluice:environment": this.environment,
      ...(node === undefined ? {} : { "sluice:node": node }),
    };
  }
}
