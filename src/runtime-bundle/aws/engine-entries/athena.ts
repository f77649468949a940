/**
 * Entry of the Athena engine's file in the runtime bundle (`engines/athena.js`): the Athena client
 * and dispatcher, loaded by the handler on first use only (cold start).
 */
import { AthenaClient } from "@aws-sdk/client-athena";
import { AthenaDispatcher, type AthenaDispatcherProps } from "../engines/athena-dispatcher";

export function createDispatcher(
  props: Omit<AthenaDispatcherProps, "client"> & { readonly client?: AthenaClient },
): AthenaDispatcher {
  return new AthenaDispatcher({ ...props, client: props.client ?? new AthenaClient({}) });
}
