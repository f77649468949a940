/** The shared planner (../plan), under the name `sluice remote` has always imported it by. */
export {
  backfillPlan,
  coerce,
  MAX_BACKFILL_VALUES,
  nodeDimensions,
  renderDimensions,
  requireNode,
  type BackfillPlanOptions,
} from "../plan";
