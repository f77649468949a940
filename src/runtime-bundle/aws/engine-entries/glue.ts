/**
 * Entry of the Glue engine's file in the runtime bundle (`engines/glue.js`): the Glue client and
 * dispatcher, loaded by the handler on first use only (cold start).
 */
import { GlueClient } from "@aws-sdk/client-glue";
import { GlueDispatcher, type GlueDispatcherProps } from "../engines/glue-dispatcher";

export function createDispatcher(
  props: Omit<GlueDispatcherProps, "client"> & { readonly client?: GlueClient },
): GlueDispatcher {
  return new GlueDispatcher({ ...props, client: props.client ?? new GlueClient({}) });
}
