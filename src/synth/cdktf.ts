/**
 * The only module that imports cdktf and constructs. cdktf is archived upstream (0.21.0); a move to
 * the community fork (same API, another package name) changes the two import lines below and nothing else.
 */
export {
  App,
  AssetType,
  Fn,
  dependable,
  Op,
  S3Backend,
  TerraformAsset,
  TerraformOutput,
  TerraformStack,
  TerraformVariable,
  Token,
  Aspects,
  type IAspect,
  type TerraformResource,
} from "cdktf";
export { Construct, type IConstruct } from "constructs";
